/**
 * Batch transitions: lock the rows by primary key (in id order, so batches never deadlock each
 * other), decide each transition with core's `planTransition`, then write every change, take the
 * feed counter and commit in one round trip.
 *
 * @module
 */
import {
  planTransition,
  type StoredEvent,
  type TransitionInput,
  type TransitionOutcome,
} from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { inTransaction } from '../pool.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import type { SqlContext } from './append.js';

/** @internal */
export function transitionEvents(
  ctx: SqlContext,
  inputs: readonly TransitionInput[],
): Promise<TransitionOutcome[]> {
  const p = ctx.prefix;
  const ids = [...new Set(inputs.map((i) => i.id))].sort((a, b) => a - b);
  return inTransaction(
    ctx.pool,
    'transition',
    async (tx) => {
      const rows = await tx.query<RowDataPacket[]>(
        `SELECT ${EVENT_COLUMNS} FROM \`${p}events\` WHERE id IN (?) ORDER BY id FOR UPDATE`,
        [ids],
      );
      const state = new Map<number, StoredEvent>(rows.map((r) => [Number(r.id), toEvent(r)]));
      const changed = new Set<number>();
      const outcomes: TransitionOutcome[] = inputs.map((input) => {
        const current = state.get(input.id) ?? null;
        const plan = planTransition(current, input);
        if (plan instanceof Error) return { ok: false, error: plan };
        if (plan.kind === 'apply') {
          state.set(input.id, { ...current!, ...plan.changes, version: current!.version + 1 });
          changed.add(input.id);
        }
        return { ok: true, event: state.get(input.id)! };
      });
      if (changed.size === 0) {
        await tx.commit('DO 0');
        return outcomes;
      }
      const list = [...changed].sort((a, b) => a - b);
      const params: unknown[] = [list.length];
      const updates = list.map((id) => {
        const e = state.get(id)!;
        params.push(
          e.status,
          e.serverId,
          e.leaseOwner,
          e.leaseExpiresAt,
          e.error,
          e.result === null ? null : JSON.stringify(e.result),
          e.version,
          id,
        );
        return `UPDATE \`${p}events\` SET status = ?, server_id = ?, lease_owner = ?, lease_expires_at = ?, error = ?, result = ?, version = ?, seq = (@s := @s + 1), updated_at = UTC_TIMESTAMP(3) WHERE id = ?`;
      });
      params.push(list);
      const results = await tx.commit<unknown[]>(
        [
          `UPDATE \`${p}feed_seq\` SET v = (@s := v) + ? WHERE id = 1`,
          ...updates,
          `SELECT ${EVENT_COLUMNS} FROM \`${p}events\` WHERE id IN (?)`,
        ].join('; '),
        params,
      );
      const fresh = new Map<number, StoredEvent>(
        (results[results.length - 2] as RowDataPacket[]).map((r) => [Number(r.id), toEvent(r)]),
      );
      return outcomes.map((o) =>
        o.ok && fresh.has(o.event.id) ? { ok: true, event: fresh.get(o.event.id)! } : o,
      );
    },
    ctx.beforeCommit,
  );
}
