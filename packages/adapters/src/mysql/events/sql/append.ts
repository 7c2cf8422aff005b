/**
 * Batch append. Idempotency keys are looked up first without a lock (a round trip only when the
 * batch has keys). Then, in one round trip, the feed counter is locked, the new rows are inserted
 * with their final positions, the counter is advanced and the transaction commits: appends are
 * numbered in commit order. Two appends racing on one new key are serialised by the counter; the
 * second fails on the unique key, rolls back, and its retry returns the first one's event.
 *
 * @module
 */
import type { StoredEvent } from '@ctlplane/core';
import { type AppendRecord, storedFromRecord } from '@ctlplane/core/driver';
import { inTransaction, runQuery } from '../../transaction.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import type { SqlContext } from './context.js';
import { advanceCounter, positionAt, READ_META, SET_NOW, takeCounter } from './feed-counter.js';

async function existingByKey(
  ctx: SqlContext,
  records: readonly AppendRecord[],
): Promise<Map<string, StoredEvent>> {
  const keys = [...new Set(records.flatMap((r) => (r.idempotencyKey ? [r.idempotencyKey] : [])))];
  if (keys.length === 0) return new Map();
  const rows = await runQuery<unknown[]>(
    ctx.pool,
    'append',
    `SELECT ${EVENT_COLUMNS} FROM \`${ctx.prefix}events\` WHERE idempotency_key IN (?)`,
    [keys],
  );
  return new Map(rows.map(toEvent).map((e) => [e.idempotencyKey!, e]));
}

/** @internal */
export async function appendEvents(
  ctx: SqlContext,
  records: readonly AppendRecord[],
): Promise<StoredEvent[]> {
  const t = `\`${ctx.prefix}events\``;
  const existing = await existingByKey(ctx, records);
  // Indexes of the records to insert: the first record of each new key, and every unkeyed one.
  const fresh: number[] = [];
  const seen = new Set<string>();
  records.forEach((r, i) => {
    if (r.idempotencyKey && (existing.has(r.idempotencyKey) || seen.has(r.idempotencyKey))) return;
    if (r.idempotencyKey) seen.add(r.idempotencyKey);
    fresh.push(i);
  });
  if (fresh.length === 0) return records.map((r) => existing.get(r.idempotencyKey!)!);
  const params: unknown[] = [];
  const tuples = fresh.map((index, i) => {
    const r = records[index]!;
    const tc = r.traceContext;
    params.push(r.type, r.region, r.serverId, r.status, r.idempotencyKey, JSON.stringify(r.payload));
    params.push(tc?.traceparent ?? null, tc?.tracestate ?? null);
    return `(${positionAt(i + 1)}, ?, ?, ?, ?, ?, ?, ?, ?, @now, @now)`;
  });
  const results = await inTransaction(
    ctx.pool,
    'append',
    (tx) =>
      tx.commit([
        SET_NOW,
        ...takeCounter(ctx.prefix),
        {
          sql: `INSERT INTO ${t} (seq, type, region, server_id, status, idempotency_key, payload, trace_parent, trace_state, created_at, updated_at) VALUES ${tuples.join(', ')}`,
          params,
        },
        advanceCounter(ctx.prefix, fresh.length),
        READ_META,
        {
          sql: `SELECT id FROM ${t} WHERE seq > @base AND seq <= @base + ? ORDER BY seq`,
          params: [fresh.length],
          name: 'ids',
        },
      ]),
    ctx.hooks,
  );
  const meta = results.row('meta');
  const base = Number(meta.base);
  const createdAt = meta.now as Date;
  const ids = results.rows('ids');
  const stored = new Map<number, StoredEvent>();
  fresh.forEach((index, i) => {
    const r = records[index]!;
    const e = storedFromRecord(r, Number(ids[i]!.id), base + i + 1, createdAt);
    stored.set(index, e);
    if (r.idempotencyKey) existing.set(r.idempotencyKey, e);
  });
  return records.map((r, i) => stored.get(i) ?? existing.get(r.idempotencyKey!)!);
}
