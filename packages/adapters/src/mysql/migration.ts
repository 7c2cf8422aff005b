/**
 * The shape of one schema migration. Every MySQL backend (event store, fleet, relay cursors)
 * contributes its migrations to one ordered list, applied by {@link migrate}.
 *
 * @module
 */

/** What a migration may need to know about the server. */
export interface SqlDialect {
  /** True on MariaDB, false on MySQL. */
  readonly mariadb: boolean;
  /**
   * A binary, NO PAD utf8mb4 collation (`utf8mb4_nopad_bin` on MariaDB, `utf8mb4_0900_bin` on
   * MySQL): names compare byte for byte, and a trailing space is significant, as in memory.
   */
  readonly binaryCollation: string;
}

/** One versioned schema change. */
export interface Migration {
  /** Unique, increasing version: `YYYYMMDDNN` style integers keep backends from colliding. */
  readonly version: number;
  /** Short name recorded in the migrations table. */
  readonly name: string;
  /** DDL statements, given the validated table prefix. Each must be safe to re-run after a crash. */
  readonly up: (prefix: string, dialect: SqlDialect) => readonly string[];
}

/**
 * `CREATE TABLE IF NOT EXISTS` of the prefixed table with the given columns and keys, InnoDB,
 * utf8mb4 with the dialect's binary collation: safe to re-run.
 */
export function createTable(
  prefix: string,
  dialect: SqlDialect,
  table: string,
  definitions: readonly string[],
): string {
  return `CREATE TABLE IF NOT EXISTS \`${prefix}${table}\` (\n  ${definitions.join(',\n  ')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${dialect.binaryCollation}`;
}

/**
 * `ALTER TABLE … ADD COLUMN` of the prefixed table. MariaDB re-runs it safely after a crash (IF NOT
 * EXISTS); MySQL has none, but its atomic DDL leaves either the column or nothing, so a re-run
 * there fails loudly with ER_DUP_FIELDNAME and the column is already in place.
 */
export function addColumn(prefix: string, dialect: SqlDialect, table: string, column: string): string {
  return addColumns(prefix, dialect, table, [column]);
}

/**
 * {@link addColumn} of several columns in one statement: on MySQL, whose DDL is atomic, a crash
 * leaves all of them or none, never the half that would make a re-run fail.
 */
export function addColumns(
  prefix: string,
  dialect: SqlDialect,
  table: string,
  columns: readonly string[],
): string {
  const add = `ADD COLUMN ${dialect.mariadb ? 'IF NOT EXISTS ' : ''}`;
  return `ALTER TABLE \`${prefix}${table}\` ${columns.map((c) => add + c).join(', ')}`;
}
