/**
 * Batch append, in one pass: the feed counter row is locked first and held to commit, rows are
 * inserted with their final feed positions, the counter is advanced, and the transaction commits.
 * Appends are therefore numbered (and their auto-increment ids allocated) in commit order; other
 * writers (transitions, claims) take the same lock in their final round trip. Either way, once a
 * feed position is visible every lower one is visible or never will be (docs/event-store.md).
 *
 * @module
 */
import type { StoredEvent } from '@ctlplane/core';
import type { AppendRecord } from '@ctlplane/core/driver';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { inTransaction } from '../../pool.js';
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
  const keys = [...new Set(records.flatMap((r) => (r.idempotencyKey ? [r.idempotencyKey] : [])))];
  return inTransaction(
    ctx.pool,
    'append',
    async (tx) => {
      // Lock the counter first: concurrent appends with the same idempotency key serialise here,
      // so the existence check below cannot race.
      const [, lock, now, found] = await tx.query<
        [unknown, RowDataPacket[], RowDataPacket[], RowDataPacket[]]
      >(
        `SET @now := UTC_TIMESTAMP(3); SELECT v FROM \`${ctx.prefix}feed_seq\` WHERE id = 1 FOR UPDATE; SELECT CAST(@now AS DATETIME(3)) AS now; ` +
          `SELECT ${EVENT_COLUMNS} FROM ${t} WHERE idempotency_key IN (?)`,
        [keys.length > 0 ? keys : [null]],
      );
      const base = Number(lock[0]?.v ?? 0);
      const createdAt = now[0]!.now as Date;
      const existing = new Map<string, StoredEvent>();
      for (const row of found) {
        const e = toEvent(row);
        existing.set(e.idempotencyKey!, e);
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
        params.push(
          base + i + 1,
          r.type,
          r.region,
          r.serverId,
          r.status,
          r.idempotencyKey,
          JSON.stringify(r.payload),
        );
        return '(?, ?, ?, ?, ?, ?, ?, @now, @now)';
      });
      params.push(base + fresh.length, base, base + fresh.length);
      const [, , ids] = await tx.commit<[unknown, unknown, RowDataPacket[]]>(
        `INSERT INTO ${t} (seq, type, region, server_id, status, idempotency_key, payload, created_at, updated_at) VALUES ${tuples.join(', ')}; ` +
          `UPDATE \`${ctx.prefix}feed_seq\` SET v = ? WHERE id = 1; ` +
          `SELECT id FROM ${t} WHERE seq > ? AND seq <= ? ORDER BY seq`,
        params,
      );
      const out = new Map<number, StoredEvent>();
      fresh.forEach((index, i) => {
        const r = records[index]!;
        const e: StoredEvent = {
          id: Number(ids[i]!.id),
          seq: base + i + 1,
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
          createdAt,
          updatedAt: createdAt,
        };
        out.set(index, e);
        if (r.idempotencyKey) existing.set(r.idempotencyKey, e);
      });
      return records.map((r, i) => out.get(i) ?? existing.get(r.idempotencyKey!)!);
    },
    ctx.beforeCommit,
  );
}
