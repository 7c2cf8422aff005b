/**
 * Relay cursors in MySQL (`<prefix>relay_cursors`), so a restarted relay resumes where the last
 * confirmed publish left off.
 *
 * @module
 */
import type { RelayCursorStore } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { type MysqlOptions, type ParsedMysqlOptions, parseMysqlOptions } from '../options.js';
import { type ManagedPool, managedPool } from '../pool.js';
import { runQuery } from '../transaction.js';

/**
 * Durable relay cursors. Share the event store's pool: `new MysqlCursorStore({ pool: driver.pool })`.
 */
export class MysqlCursorStore implements RelayCursorStore {
  readonly #o: ParsedMysqlOptions;
  readonly #pool: ManagedPool;

  /** @param options - connection and table prefix; validated here */
  constructor(options: MysqlOptions) {
    this.#o = parseMysqlOptions(options, 'MysqlCursorStore options');
    this.#pool = managedPool({ ...this.#o, poolSize: Math.min(this.#o.poolSize, 2) });
  }

  async load(name: string): Promise<number> {
    const rows = await runQuery<RowDataPacket[]>(
      this.#pool.pool,
      'load cursor',
      `SELECT cursor_pos FROM \`${this.#o.tablePrefix}relay_cursors\` WHERE name = ?`,
      [name],
    );
    return Number(rows[0]?.cursor_pos ?? 0);
  }

  async save(name: string, cursor: number): Promise<void> {
    await runQuery(
      this.#pool.pool,
      'save cursor',
      `INSERT INTO \`${this.#o.tablePrefix}relay_cursors\` (name, cursor_pos, updated_at) VALUES (?, ?, UTC_TIMESTAMP(3))
       ON DUPLICATE KEY UPDATE cursor_pos = GREATEST(cursor_pos, VALUES(cursor_pos)), updated_at = VALUES(updated_at)`,
      [name, cursor],
    );
  }

  /** Close the pool if this store created it. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
