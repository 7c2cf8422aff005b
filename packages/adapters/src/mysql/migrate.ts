/**
 * Versioned migrations for every MySQL backend, recorded in `<prefix>migrations`. Safe to run
 * twice and from two processes at once: a named lock (GET_LOCK) serialises runners, applied
 * versions are skipped, and each statement is idempotent so a crash mid-way is repaired by the
 * next run.
 *
 * @module
 */
import { isCtlplaneError, UnavailableError } from '@ctlplane/core';
import { parseOrThrow } from '@ctlplane/core/driver';
import type { RowDataPacket } from 'mysql2/promise';
import { z } from 'zod';
import { mapMysqlError } from './errors.js';
import { EVENT_STORE_MIGRATIONS } from './events/migrations.js';
import { FLEET_MIGRATIONS } from './fleet/migrations.js';
import type { Migration, SqlDialect } from './migration.js';
import { type MysqlOptions, parseMysqlOptions } from './options.js';
import { checkServerVersion, managedPool } from './pool.js';
import { RELAY_MIGRATIONS } from './relay/migrations.js';

/**
 * Every migration ctlplane ships, in version order: {@link EVENT_STORE_MIGRATIONS},
 * {@link RELAY_MIGRATIONS} and {@link FLEET_MIGRATIONS}.
 */
export const MIGRATIONS: readonly Migration[] = [
  ...EVENT_STORE_MIGRATIONS,
  ...RELAY_MIGRATIONS,
  ...FLEET_MIGRATIONS,
].sort((a, b) => a.version - b.version);

/** What a migration run did. */
export interface MigrateResult {
  /** Versions applied by this run. */
  readonly applied: readonly number[];
  /** Versions that were already applied. */
  readonly skipped: readonly number[];
  /** The database server's version string. */
  readonly serverVersion: string;
}

/** Options of {@link migrate}. */
export interface MigrateOptions extends MysqlOptions {
  /** Seconds to wait for another runner's lock (default 60; 0 to 86,400). */
  lockTimeoutS?: number;
  /**
   * Apply pending migrations up to this version only (an integer ≥ 0; default: all), e.g. to
   * stage an upgrade.
   */
  to?: number;
}

const runSchema = z
  .object({
    lockTimeoutS: z.number().int().min(0).max(86_400).default(60),
    to: z.number().int().min(0).optional(),
  })
  .strict();

/**
 * Apply every pending migration (or those up to `to`).
 *
 * @throws ValidationError naming `to` or `lockTimeoutS` (e.g. `to: NaN`, which would have applied
 *   everything) or the connection option at fault, before connecting
 * @example
 * ```ts
 * import { migrate } from '@ctlplane/adapters/mysql';
 * await migrate({ url: 'mysql://root@127.0.0.1:3306/test' });
 * ```
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const { lockTimeoutS, to, ...rest } = options;
  const run = parseOrThrow(
    runSchema,
    { lockTimeoutS, ...(to !== undefined ? { to } : {}) },
    'migrate options',
  );
  const o = parseMysqlOptions(rest, 'migrate options');
  const log = o.logger.child('mysql:migrate');
  const mp = managedPool({ ...o, poolSize: 1 });
  const p = o.tablePrefix;
  const conn = await mp.pool.getConnection().catch((err: unknown) => {
    void mp.close();
    throw mapMysqlError(err, 'migrate');
  });
  const lockName = `ctlplane.migrate.${p}`;
  try {
    const serverVersion = await checkServerVersion(conn);
    const mariadb = /mariadb/i.test(serverVersion);
    const dialect: SqlDialect = {
      mariadb,
      binaryCollation: mariadb ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin',
    };
    const [lock] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(CONCAT(DATABASE(), ?), ?) AS got', [
      lockName,
      run.lockTimeoutS,
    ]);
    if (lock[0]?.got !== 1)
      throw new UnavailableError(`migrate: another runner held the lock for ${run.lockTimeoutS}s`);
    try {
      await conn.query(
        `CREATE TABLE IF NOT EXISTS \`${p}migrations\` (
          version BIGINT UNSIGNED NOT NULL PRIMARY KEY,
          name VARCHAR(191) NOT NULL,
          applied_at DATETIME(3) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      );
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT version FROM \`${p}migrations\``);
      const done = new Set(rows.map((r) => Number(r.version)));
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (done.has(m.version) || (run.to !== undefined && m.version > run.to)) continue;
        for (const statement of m.up(p, dialect)) await conn.query(statement);
        await conn.query(
          `INSERT IGNORE INTO \`${p}migrations\` (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(3))`,
          [m.version, m.name],
        );
        applied.push(m.version);
        log.info('applied migration', { version: m.version, name: m.name });
      }
      return { applied, skipped: [...done].sort((a, b) => a - b), serverVersion };
    } finally {
      await conn.query('SELECT RELEASE_LOCK(CONCAT(DATABASE(), ?))', [lockName]).catch(() => {});
    }
  } catch (err) {
    if (isCtlplaneError(err)) throw err;
    throw mapMysqlError(err, 'migrate');
  } finally {
    conn.release();
    await mp.close();
  }
}
