/**
 * Statements shared by reserve and release: lock a key's fence row, give reservations back to
 * their servers, and retire released keys.
 *
 * @internal
 * @module
 */
import type { Allocation } from '@ctlplane/core';
import type { Statement } from '../../round-trip.js';
import { byKey, demandEntries, fleetTables, jsonPath } from '../rows.js';
import type { FleetSqlContext } from './context.js';

/** @internal Count one more member of a group on a server. */
export const GROUP_UP =
  'grp_counts = JSON_SET(grp_counts, ?, COALESCE(CAST(JSON_VALUE(grp_counts, ?) AS SIGNED), 0) + 1)';
const GROUP_DOWN =
  'grp_counts = IF(COALESCE(CAST(JSON_VALUE(grp_counts, ?) AS SIGNED), 0) <= 1, JSON_REMOVE(grp_counts, ?), JSON_SET(grp_counts, ?, CAST(JSON_VALUE(grp_counts, ?) AS SIGNED) - 1))';

/** @internal Give `held` reservations back to their servers and delete them. */
export function releaseStatements(ctx: FleetSqlContext, held: readonly Allocation[]): Statement[] {
  const { servers, allocations } = fleetTables(ctx.prefix);
  const out = byKey(held, (a) => a.serverId).map((a): Statement => {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [name, amount] of demandEntries(a.demand)) {
      const s = ctx.slots.slot(name);
      if (s < 0) continue;
      sets.push(`used${s} = used${s} - ?`);
      params.push(amount);
    }
    if (a.group) {
      sets.push(GROUP_DOWN);
      const g = jsonPath(a.group);
      params.push(g, g, g, g);
    }
    sets.push('generation = generation + 1', 'updated_at = UTC_TIMESTAMP(3)');
    params.push(a.serverId);
    return { sql: `UPDATE ${servers} SET ${sets.join(', ')} WHERE id = ?`, params };
  });
  if (held.length > 0) {
    out.push({ sql: `DELETE FROM ${allocations} WHERE alloc_key IN (?)`, params: [held.map((a) => a.key)] });
  }
  return out;
}

/** @internal Lock (making it if missing) the fence row of each key, in key order: the first statement on a key. */
export function lockFences(fences: string, keys: readonly string[]): Statement {
  const now = new Date();
  return {
    sql: `INSERT INTO ${fences} (alloc_key, retired, updated_at) VALUES ? ON DUPLICATE KEY UPDATE alloc_key = alloc_key`,
    params: [[...new Set(keys)].sort().map((k) => [k, null, now])],
  };
}

/** @internal Retire released keys up to their fences (never lowering an earlier retirement). */
export function retireStatements(fences: string, retired: ReadonlyMap<string, number>): Statement[] {
  const now = new Date();
  return [...retired].map(([key, fence]) => ({
    sql: `UPDATE ${fences} SET retired = GREATEST(COALESCE(retired, 0), ?), updated_at = ? WHERE alloc_key = ?`,
    params: [fence, now, key],
  }));
}
