/**
 * Batch transitions in one round trip, decided compare-and-set by the statements that apply
 * them. The rows are locked by primary key first (in id order, so batches never deadlock each
 * other, and before the feed counter, so nothing waits while holding it); then each group of
 * transitions that write the same values is one conditional UPDATE built from core's
 * `transitionGuard`, numbered as it applies; the rows are read back and the transaction commits.
 * A row the UPDATE left alone was refused (or is an idempotent no-op): core's `planTransition` on
 * that row names the reason, so the typed errors are those of every other backend.
 *
 * @module
 */
import type { StoredEvent, TransitionInput, TransitionOutcome } from '@ctlplane/core';
import { planTransition, type TransitionGuard, transitionGuard } from '@ctlplane/core/driver';
import type { Statement } from '../../round-trip.js';
import { inTransaction, runQuery } from '../../transaction.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import type { SqlContext } from './context.js';
import { NEXT_POSITION, READ_META, SET_NOW, saveCounter, takeCounter } from './feed-counter.js';

/** One conditional UPDATE: every transition of a group writes the same values. */
function updateStatement(prefix: string, g: TransitionGuard, ids: readonly number[]): Statement {
  const set: string[] = ['status = ?'];
  const params: unknown[] = [g.status];
  const assign = (column: string, value: unknown) => {
    set.push(`${column} = ?`);
    params.push(value);
  };
  if (g.serverId !== undefined) assign('server_id', g.serverId);
  if (g.clearLease) set.push('lease_owner = NULL', 'lease_expires_at = NULL');
  if (g.error !== undefined) assign('error', g.error);
  if (g.result !== undefined) assign('result', JSON.stringify(g.result));
  set.push('version = version + 1', `seq = ${NEXT_POSITION}`, 'updated_at = @now');
  const where = ['id IN (?)', 'status IN (?)'];
  params.push(ids, g.from);
  if (g.version !== undefined) {
    where.push('version = ?');
    params.push(g.version);
  }
  if (g.leaseOwner !== undefined) {
    where.push('lease_owner = ?');
    params.push(g.leaseOwner);
  }
  return {
    sql: `UPDATE \`${prefix}events\` SET ${set.join(', ')} WHERE ${where.join(' AND ')} ORDER BY id`,
    params,
  };
}

/** Transitions that can apply, grouped by the values they write and the row they expect. */
function groups(inputs: readonly TransitionInput[]): Map<string, { guard: TransitionGuard; ids: number[] }> {
  const out = new Map<string, { guard: TransitionGuard; ids: number[] }>();
  for (const input of inputs) {
    const guard = transitionGuard(input);
    if (guard.from.length === 0) continue;
    const key = JSON.stringify(guard);
    const group = out.get(key) ?? { guard, ids: [] };
    group.ids.push(input.id);
    out.set(key, group);
  }
  return out;
}

/** The outcome of one transition, given its row after the round trip. */
function outcome(input: TransitionInput, row: StoredEvent | undefined, base: number): TransitionOutcome {
  if (row && row.seq > base) return { ok: true, event: row };
  const plan = planTransition(row ?? null, input);
  if (plan instanceof Error) return { ok: false, error: plan };
  if (plan.kind === 'noop') return { ok: true, event: row! };
  return {
    ok: false,
    error: new Error(`event ${input.id}: the store did not apply a transition its rules allow`),
  };
}

/** Transitions whose ids are all distinct, in one transaction. */
async function transitionDistinct(
  ctx: SqlContext,
  inputs: readonly TransitionInput[],
): Promise<TransitionOutcome[]> {
  const t = `\`${ctx.prefix}events\``;
  const ids = [...new Set(inputs.map((i) => i.id))].sort((a, b) => a - b);
  const select: Statement = {
    sql: `SELECT ${EVENT_COLUMNS} FROM ${t} WHERE id IN (?) ORDER BY id`,
    params: [ids],
    name: 'rows',
  };
  const writes = [...groups(inputs).values()].map((g) => updateStatement(ctx.prefix, g.guard, g.ids));
  let rows: StoredEvent[];
  let base = Number.POSITIVE_INFINITY;
  if (writes.length === 0) {
    // Nothing can apply: report each refusal (or no-op) from the rows as they are.
    rows = (await runQuery<unknown[]>(ctx.pool, 'transition', select.sql, [ids])).map(toEvent);
  } else {
    const results = await inTransaction(
      ctx.pool,
      'transition',
      (tx) =>
        tx.commit(
          [SET_NOW, ...takeCounter(ctx.prefix), ...writes, saveCounter(ctx.prefix), READ_META, select],
          [{ sql: `SELECT id FROM ${t} WHERE id IN (?) ORDER BY id FOR UPDATE`, params: [ids] }],
        ),
      ctx.hooks,
    );
    rows = results.rows('rows').map(toEvent);
    base = Number(results.row('meta').base);
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  return inputs.map((input) => outcome(input, byId.get(input.id), base));
}

/**
 * @internal Apply transitions, each on its own. Transitions of one event in one batch apply in
 * order: the batch is cut where an id repeats, and each cut runs as its own transaction.
 */
export async function transitionEvents(
  ctx: SqlContext,
  inputs: readonly TransitionInput[],
): Promise<TransitionOutcome[]> {
  const out: TransitionOutcome[] = [];
  let chunk: TransitionInput[] = [];
  let seen = new Set<number>();
  for (const input of inputs) {
    if (seen.has(input.id)) {
      out.push(...(await transitionDistinct(ctx, chunk)));
      chunk = [];
      seen = new Set();
    }
    chunk.push(input);
    seen.add(input.id);
  }
  if (chunk.length > 0) out.push(...(await transitionDistinct(ctx, chunk)));
  return out;
}
