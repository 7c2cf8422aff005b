/**
 * Batch transitions: lock the rows by primary key (in id order, so batches never deadlock each
 * other), decide each transition with core's `planTransition`, then write every change, take the
 * feed counter and commit in one round trip.
 *
 * @module
 */
import type { StoredEvent, TransitionInput, TransitionOutcome } from '@ctlplane/core';
import { planTransition } from '@ctlplane/core/driver';
import type { RowDataPacket } from 'mysql2/promise';
import { inTransaction } from '../../pool.js';
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
      const changed = new Map<number, number>();
      const outcomes: TransitionOutcome[] = inputs.map((input) => {
        const current = state.get(input.id) ?? null;
        const plan = planTransition(current, input);
        if (plan instanceof Error) return { ok: false, error: plan };
        if (plan.kind === 'apply') {
          state.set(input.id, { ...current!, ...plan.changes, version: current!.version + 1 });
          changed.set(input.id, (changed.get(input.id) ?? 0) + 1);
        }
        return { ok: true, event: state.get(input.id)! };
      });
      if (changed.size === 0) {
        await tx.commit('DO 0');
        return outcomes;
      }
      const list = [...changed.keys()].sort((a, b) => a - b);
      // Rows that end in the same state share one UPDATE (acks of a batch are mostly alike).
      const groups = new Map<string, number[]>();
      for (const id of list) {
        const e = state.get(id)!;
        const values = [
          e.status,
          e.serverId,
          e.leaseOwner,
          e.leaseExpiresAt?.getTime() ?? null,
          e.error,
          e.result,
          changed.get(id),
        ];
        const key = JSON.stringify(values);
        groups.set(key, [...(groups.get(key) ?? []), id]);
      }
      const params: unknown[] = [list.length];
      const updates = [...groups.values()].map((group) => {
        const e = state.get(group[0]!)!;
        const result = e.result === null ? null : JSON.stringify(e.result);
        params.push(
          e.status,
          e.serverId,
          e.leaseOwner,
          e.leaseExpiresAt,
          e.error,
          result,
          changed.get(e.id),
          group,
        );
        return `UPDATE \`${p}events\` SET status = ?, server_id = ?, lease_owner = ?, lease_expires_at = ?, error = ?, result = ?, version = version + ?, seq = (@s := @s + 1), updated_at = @now WHERE id IN (?) ORDER BY id`;
      });
      const [, , meta] = await tx.commit<[unknown, unknown, RowDataPacket[]]>(
        [
          'SET @now := UTC_TIMESTAMP(3)',
          `UPDATE \`${p}feed_seq\` SET v = (@s := v) + ? WHERE id = 1`,
          'SELECT @s AS base, CAST(@now AS DATETIME(3)) AS now',
          ...updates,
        ].join('; '),
        params,
      );
      // The rows were numbered in statement order, ascending id within each statement.
      let seq = Number(meta[0]!.base);
      const updatedAt = meta[0]!.now as Date;
      for (const group of groups.values()) {
        for (const id of group) state.set(id, { ...state.get(id)!, seq: ++seq, updatedAt });
      }
      return outcomes.map((o) =>
        o.ok && changed.has(o.event.id) ? { ok: true, event: state.get(o.event.id)! } : o,
      );
    },
    ctx.beforeCommit,
  );
}
