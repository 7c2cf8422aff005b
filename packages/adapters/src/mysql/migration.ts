/**
 * The shape of one schema migration. Every MySQL backend (event store, fleet, relay cursors)
 * contributes its migrations to one ordered list, applied by {@link migrate}.
 *
 * @module
 */

/** One versioned schema change. */
export interface Migration {
  /** Unique, increasing version: `YYYYMMDDNN` style integers keep backends from colliding. */
  readonly version: number;
  /** Short name recorded in the migrations table. */
  readonly name: string;
  /** DDL statements, given the validated table prefix. Each must be safe to re-run after a crash. */
  readonly up: (prefix: string) => readonly string[];
}
