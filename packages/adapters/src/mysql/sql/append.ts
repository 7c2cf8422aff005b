/**
 * Batch append. Rows are inserted with a placeholder feed position (negative, unique per
 * connection); the final round trip takes the feed counter row lock, assigns real positions and
 * commits. The lock is held to commit, so positions are handed out in commit order and the feed
 * has no gaps, even though auto-increment ids are not (see docs/event-store.md).
 *
 * @module
 */
import type { AppendRecord, StoredEvent } from '@ctlplane/core';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { inTransaction } from '../pool.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';

/** @internal Test hook and pool shared by the SQL operations. */
export interface SqlContext {
  readonly pool: Pool;
  readonly prefix: string;
  readonly beforeCommit?: ((operation: string) => Promise<void>) | undefined;
}

/** @internal */
export function appendEvents(ctx: SqlContext, records: readonly AppendRecord[]): Promise<StoredEvent[]> {
  const t = `\`${ctx.prefix}events\``;
  return inTransaction(
    ctx.pool,
    'append',
    async (tx) => {
      const keys = [...new Set(records.flatMap((r) => (r.idempotencyKey ? [r.idempotencyKey] : [])))];
      const existing = new Map<string, StoredEvent>();
      if (keys.length > 0) {
        const rows = await tx.query<RowDataPacket[]>(
          `SELECT ${EVENT_COLUMNS} FROM ${t} WHERE idempotency_key IN (?)`,
          [keys],
        );
        for (const row of rows) {
          const e = toEvent(row);
          existing.set(e.idempotencyKey!, e);
        }
      }
      const fresh: number[] = [];
      const seen = new Set<string>();
      records.forEach((r, i) => {
        if (r.idempotencyKey && (existing.has(r.idempotencyKey) || seen.has(r.idempotencyKey))) return;
        if (r.idempotencyKey) seen.add(r.idempotencyKey);
        fresh.push(i);
      });
      if (fresh.length === 0) {
        await tx.commit('DO 0');
        return records.map((r) => existing.get(r.idempotencyKey!)!);
      }
      const [, idRow] = await tx.query<[unknown, RowDataPacket[]]>(
        'SET @now := UTC_TIMESTAMP(3); SELECT CONNECTION_ID() AS c',
      );
      // Placeholder positions: negative, unique per live connection, replaced before commit. The
      // seq index is not unique on purpose: inserting next to another transaction's uncommitted
      // placeholder in a unique index would wait on its duplicate-check lock. The rows are then
      // found with a plain (non-locking) read and updated by primary key only, so the commit
      // stage never waits on a neighbour's row while holding the feed counter.
      const base = -tx.connectionId * 16_384 - 1;
      const placeholders = fresh.map((_, i) => base - i);
      const params: unknown[] = [];
      const tuples = fresh.map((index, i) => {
        const r = records[index]!;
        params.push(
          placeholders[i],
          r.type,
          r.region,
          r.serverId,
          r.status,
          r.idempotencyKey,
          JSON.stringify(r.payload),
        );
        return '(?, ?, ?, ?, ?, ?, ?, @now, @now)';
      });
      const [, , inserted] = await tx.query<[unknown, unknown, RowDataPacket[]]>(
        `SET @now := UTC_TIMESTAMP(3); INSERT INTO ${t} (seq, type, region, server_id, status, idempotency_key, payload, created_at, updated_at) VALUES ${tuples.join(', ')}; SELECT id FROM ${t} WHERE seq IN (?) ORDER BY id`,
        [...params, placeholders],
      );
      const ids = inserted.map((r) => Number(r.id));
      const results = await tx.commit<unknown[]>(
        [
          `UPDATE \`${ctx.prefix}feed_seq\` SET v = (@s := v) + ? WHERE id = 1`,
          `UPDATE ${t} SET seq = (@s := @s + 1) WHERE id IN (?) ORDER BY id`,
          `SELECT id, seq, created_at FROM ${t} WHERE seq > @s - ? AND seq <= @s ORDER BY seq`,
        ].join('; '),
        [fresh.length, ids, fresh.length],
      );
      const idRows = results[2] as RowDataPacket[];
      const out = new Map<number, StoredEvent>();
      fresh.forEach((index, i) => {
        const r = records[index]!;
        const row = idRows[i]!;
        const e: StoredEvent = {
          id: Number(row.id),
          seq: Number(row.seq),
          type: r.type,
          payload: r.payload,
          region: r.region,
          serverId: r.serverId,
          status: r.status,
          attempts: 0,
          leaseOwner: null,
          leaseExpiresAt: null,
          idempotencyKey: r.idempotencyKey,
          error: null,
          result: null,
          version: 1,
          createdAt: row.created_at as Date,
          updatedAt: row.created_at as Date,
        };
        out.set(index, e);
        if (r.idempotencyKey) existing.set(r.idempotencyKey, e);
      });
      return records.map((r, i) => out.get(i) ?? existing.get(r.idempotencyKey!)!);
    },
    ctx.beforeCommit,
  );
}
