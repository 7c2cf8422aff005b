/**
 * Batch transitions in one round trip, decided compare-and-set by the statements that apply
 * them. The rows are locked and read by primary key first (in id order, so batches never
 * deadlock each other, and before the feed counter, so nothing waits while holding it); then the
 * transitions to each status are one conditional UPDATE built from core's `transitionGuard` (what
 * differs between them is joined in from a JSON array), numbered as it applies; the positions it
 * gave are read back and the transaction commits. An applied transition's event is the row read
 * with the guard's changes (`applyTransitionGuard`); a row the UPDATE left alone was refused (or
 * is an idempotent no-op): core's `planTransition` on that row names the reason, so the typed
 * errors are those of every other backend.
 *
 * @module
 */
import type { StoredEvent, TransitionInput, TransitionOutcome } from '@ctlplane/core';
import {
  applyTransitionGuard,
  type GuardApplied,
  planTransition,
  type TransitionGuard,
  transitionGuard,
} from '@ctlplane/core/driver';
import type { Statement } from '../../round-trip.js';
import { RowReader } from '../../row-checks.js';
import { inTransaction, runQuery } from '../../transaction.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import type { SqlContext } from './context.js';
import { NEXT_POSITION, READ_META, SET_NOW, saveCounter, takeCounter } from './feed-counter.js';

/** The per-transition columns of a batch, as `JSON_TABLE` reads them from the JSON array parameter. */
const INPUTS = `JSON_TABLE(?, '$[*]' COLUMNS (
  id BIGINT UNSIGNED PATH '$.id', allowed VARCHAR(100) PATH '$.from', version INT UNSIGNED PATH '$.version',
  owner VARCHAR(191) PATH '$.owner', server VARCHAR(191) PATH '$.server', err TEXT PATH '$.error',
  res LONGTEXT PATH '$.result')) AS j`;

/** One transition's row of {@link INPUTS}; an absent field is a condition not checked or a value kept. */
function inputRow(id: number, g: TransitionGuard): Record<string, unknown> {
  return {
    id,
    from: g.from.join(','),
    ...(g.version !== undefined ? { version: g.version } : {}),
    ...(g.leaseOwner !== undefined ? { owner: g.leaseOwner } : {}),
    ...(g.serverId !== undefined ? { server: g.serverId } : {}),
    ...(g.error !== undefined ? { error: g.error } : {}),
    ...(g.result !== undefined ? { result: JSON.stringify(g.result) } : {}),
  };
}

/**
 * One conditional UPDATE for every transition to `status`: the values and conditions that differ
 * between transitions (server, version, lease owner, error, result, allowed statuses) are joined
 * in as rows of a JSON array, so a batch placing 250 events on 250 servers is one statement.
 */
function updateStatement(
  prefix: string,
  status: TransitionGuard['status'],
  clearLease: boolean,
  rows: unknown[],
): Statement {
  const set = [
    'e.status = ?',
    'e.server_id = COALESCE(j.server, e.server_id)',
    ...(clearLease ? ['e.lease_owner = NULL', 'e.lease_expires_at = NULL'] : []),
    'e.error = COALESCE(j.err, e.error)',
    'e.result = COALESCE(j.res, e.result)',
    'e.version = e.version + 1',
    `e.seq = ${NEXT_POSITION}`,
    'e.updated_at = @now',
  ];
  const where = [
    'FIND_IN_SET(e.status, j.allowed)',
    '(j.version IS NULL OR e.version = j.version)',
    '(j.owner IS NULL OR BINARY e.lease_owner = BINARY j.owner)',
  ];
  return {
    sql: `UPDATE ${INPUTS} JOIN \`${prefix}events\` AS e ON e.id = j.id SET ${set.join(', ')} WHERE ${where.join(' AND ')}`,
    params: [JSON.stringify(rows), status],
  };
}

/** @internal One UPDATE per target status, for the transitions that can apply. */
export function updates(
  prefix: string,
  inputs: readonly TransitionInput[],
  guards: readonly TransitionGuard[] = inputs.map(transitionGuard),
): Statement[] {
  const byStatus = new Map<TransitionGuard['status'], { clearLease: boolean; rows: unknown[] }>();
  inputs.forEach((input, i) => {
    const guard = guards[i]!;
    if (guard.from.length === 0) return;
    const group = byStatus.get(guard.status) ?? { clearLease: guard.clearLease, rows: [] };
    group.rows.push(inputRow(input.id, guard));
    byStatus.set(guard.status, group);
  });
  return [...byStatus].map(([status, g]) => updateStatement(prefix, status, g.clearLease, g.rows));
}

/**
 * The outcome of one transition, from its row as read under its lock before the UPDATEs and the
 * position the UPDATE gave it (none: the UPDATE left the row alone).
 */
function outcome(
  input: TransitionInput,
  guard: TransitionGuard,
  before: StoredEvent | undefined,
  applied: GuardApplied | undefined,
): TransitionOutcome {
  if (before && applied) {
    const event = applyTransitionGuard(guard, before, applied);
    if (event) return { ok: true, event };
  }
  const plan = planTransition(before ?? null, input);
  if (plan instanceof Error) return { ok: false, error: plan };
  if (plan.kind === 'noop') return { ok: true, event: before! };
  return {
    ok: false,
    error: new Error(`event ${input.id}: the store did not apply a transition its rules allow`),
  };
}

/**
 * Transitions whose ids are all distinct, in one transaction. The rows are read whole by the
 * statement that locks them, before the feed counter is taken; under the counter the statements
 * write, and read back only the positions they gave, so the counter is held for the writes alone.
 */
async function transitionDistinct(
  ctx: SqlContext,
  inputs: readonly TransitionInput[],
): Promise<TransitionOutcome[]> {
  const t = `\`${ctx.prefix}events\``;
  const ids = [...new Set(inputs.map((i) => i.id))].sort((a, b) => a - b);
  const guards = inputs.map(transitionGuard);
  const writes = updates(ctx.prefix, inputs, guards);
  const read = `SELECT ${EVENT_COLUMNS} FROM ${t} WHERE id IN (?) ORDER BY id`;
  let rows: StoredEvent[];
  const positions = new Map<number, GuardApplied>();
  if (writes.length === 0) {
    // Nothing can apply: report each refusal (or no-op) from the rows as they are.
    rows = (await runQuery<unknown[]>(ctx.pool, 'transition', read, [ids])).map(toEvent);
  } else {
    const results = await inTransaction(
      ctx.pool,
      'transition',
      (tx) =>
        tx.commit(
          [
            SET_NOW,
            ...takeCounter(ctx.prefix),
            ...writes,
            saveCounter(ctx.prefix),
            READ_META,
            {
              sql: `SELECT id, seq FROM ${t} WHERE id IN (?) AND seq > @base`,
              params: [ids],
              name: 'numbered',
            },
          ],
          [{ sql: `${read} FOR UPDATE`, params: [ids], name: 'rows' }],
        ),
      ctx.hooks,
    );
    rows = results.rows('rows').map(toEvent);
    const now = new RowReader('meta', results.row('meta')).date('now');
    for (const row of results.rows('numbered')) {
      const r = new RowReader('events', row);
      positions.set(r.count('id'), { seq: r.count('seq'), now });
    }
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  return inputs.map((input, i) => outcome(input, guards[i]!, byId.get(input.id), positions.get(input.id)));
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
