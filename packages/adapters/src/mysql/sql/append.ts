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
      const params: unknown[] = [];
      const tuples = fresh.map((index, i) => {
        const r = records[index]!;
        params.push(i, r.type, r.region, r.serverId, r.status, r.idempotencyKey, JSON.stringify(r.payload));
        // Placeholder position: negative and unique per live connection, replaced before commit.
        return '(-(CONNECTION_ID() * 16384 + ?) - 1, ?, ?, ?, ?, ?, ?, @now, @now)';
      });
      await tx.query(
        `SET @now := UTC_TIMESTAMP(3); INSERT INTO ${t} (seq, type, region, server_id, status, idempotency_key, payload, created_at, updated_at) VALUES ${tuples.join(', ')}`,
        params,
      );
      const results = await tx.commit<unknown[]>(
        [
          `UPDATE \`${ctx.prefix}feed_seq\` SET v = (@s := v) + ? WHERE id = 1`,
          `UPDATE ${t} SET seq = (@s := @s + 1) WHERE seq < 0 AND seq >= -(CONNECTION_ID() * 16384 + ?) - 1 AND seq <= -(CONNECTION_ID() * 16384) - 1 ORDER BY id`,
          `SELECT id, seq, created_at FROM ${t} WHERE seq > @s - ? AND seq <= @s ORDER BY seq`,
        ].join('; '),
        [fresh.length, fresh.length - 1, fresh.length],
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
