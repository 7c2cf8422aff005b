/**
 * Release on MySQL: give reservations back by key in one transaction of two round trips; a newer
 * fence keeps one. Each key is retired up to the higher of the input's fence and the released
 * reservation's, so a late decision cannot reserve it again.
 *
 * @internal
 * @module
 */
import type { ReleaseInput, ReleaseOutcome } from '@ctlplane/core';
import { isFenced, retiredFence } from '@ctlplane/core/driver';
import { inTransaction } from '../../transaction.js';
import { ALLOCATION_COLUMNS, fleetTables, SERVER_COLUMNS, toAllocation, toServer } from '../rows.js';
import type { FleetSqlContext } from './context.js';
import { lockFences, releaseStatements, retireStatements } from './statements.js';

/**
 * @internal Release reservations by key in one transaction; a newer fence keeps one. Each key is
 * retired up to the higher of the input's fence and the released reservation's.
 */
export async function releaseSql(
  ctx: FleetSqlContext,
  inputs: readonly ReleaseInput[],
): Promise<ReleaseOutcome[]> {
  if (inputs.length === 0) return [];
  const keys = inputs.map((r) => r.key);
  const unique = [...new Set(keys)];
  const inputFence = new Map(inputs.map((r) => [r.key, r.fence]));
  const kept = new Set<string>();
  const { servers, allocations, fences } = fleetTables(ctx.prefix);
  const { held, fresh } = await inTransaction(ctx.pool, 'fleet release', async (tx) => {
    const heldRows = (
      await tx.run([
        lockFences(fences, unique),
        {
          sql: `SELECT ${ALLOCATION_COLUMNS} FROM ${allocations} WHERE alloc_key IN (?) ORDER BY alloc_key FOR UPDATE`,
          params: [unique],
          name: 'held',
        },
      ])
    ).rows('held');
    const byKeyHeld = new Map(heldRows.map(toAllocation).map((a) => [a.key, a]));
    const found = [...byKeyHeld.values()].filter((a) => {
      if (!isFenced(a.fence, inputFence.get(a.key))) return true;
      kept.add(a.key);
      return false;
    });
    const retire = new Map<string, number>();
    for (const key of unique) {
      if (kept.has(key)) continue;
      const fence = retiredFence(byKeyHeld.get(key)?.fence, inputFence.get(key));
      if (fence !== null) retire.set(key, fence);
    }
    const statements = [...releaseStatements(ctx, found), ...retireStatements(fences, retire)];
    if (found.length > 0) {
      statements.push({
        sql: `SELECT ${SERVER_COLUMNS} FROM ${servers} WHERE id IN (?)`,
        params: [[...new Set(found.map((a) => a.serverId))]],
        name: 'fresh',
      });
    }
    const out = await tx.commit(statements);
    const rows = found.length > 0 ? out.rows('fresh') : [];
    return { held: found, fresh: new Map(rows.map((r) => [String(r.id), toServer(r, ctx.slots)])) };
  });
  const byAlloc = new Map(held.map((a) => [a.key, a]));
  const done = new Set<string>();
  return keys.map((key): ReleaseOutcome => {
    const a = byAlloc.get(key);
    const server = a ? fresh.get(a.serverId) : undefined;
    if (kept.has(key)) return { ok: false, key, reason: 'fenced' };
    if (!a || !server || done.has(key)) return { ok: false, key, reason: 'not_found' };
    done.add(key);
    return { ok: true, key, server };
  });
}
