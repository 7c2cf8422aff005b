/**
 * Relay cursors in MySQL (`<prefix>relay_cursors`), so a restarted relay resumes where the last
 * confirmed publish left off, and the changes a relay parked (`<prefix>relay_parked`), so a
 * restart does not forget what was never published.
 *
 * @module
 */
import type { ParkedChange, RelayCursorStore } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { type MysqlOptions, type ParsedMysqlOptions, parseMysqlOptions } from '../options.js';
import { type ManagedPool, managedPool } from '../pool.js';
import { RowReader } from '../row-checks.js';
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

  async park(name: string, change: ParkedChange): Promise<void> {
    await runQuery(
      this.#pool.pool,
      'park change',
      `INSERT IGNORE INTO \`${this.#o.tablePrefix}relay_parked\` (name, event_id, version, seq, reason, parked_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [name, change.eventId, change.version, change.seq, change.reason.slice(0, 1_000), change.parkedAt],
    );
  }

  async parked(name: string, limit: number): Promise<ParkedChange[]> {
    const rows = await runQuery<RowDataPacket[]>(
      this.#pool.pool,
      'read parked changes',
      `SELECT event_id, version, seq, reason, parked_at FROM \`${this.#o.tablePrefix}relay_parked\`
       WHERE name = ? ORDER BY seq DESC LIMIT ?`,
      [name, limit],
    );
    return rows.map(parkedRow);
  }

  /** Close the pool if this store created it. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** A `relay_parked` row, checked before it leaves the adapter. */
function parkedRow(row: RowDataPacket): ParkedChange {
  const r = new RowReader('relay_parked', row);
  const [eventId, version, seq] = (['event_id', 'version', 'seq'] as const).map((c) => r.count(c));
  return {
    eventId: eventId!,
    version: version!,
    seq: seq!,
    reason: r.text('reason'),
    parkedAt: r.date('parked_at'),
  };
}
