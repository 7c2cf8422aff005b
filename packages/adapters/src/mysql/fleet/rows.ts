/**
 * Rows of the fleet tables, parsed before they leave the adapter, and the small SQL helpers the
 * fleet's statements share.
 *
 * @internal
 * @module
 */
import {
  type Allocation,
  type Resources,
  SERVER_STATES,
  type Server,
  type ServerState,
} from '@ctlplane/core';
import { RowReader } from '../row-checks.js';
import { FLEET_SLOTS } from './migrations.js';
import type { FleetSlots } from './slots.js';

/** @internal The columns every server read selects. */
export const SERVER_COLUMNS = [
  'id, region, state, labels, grp_counts, generation, updated_at',
  ...Array.from({ length: FLEET_SLOTS }, (_, i) => `cap${i}, used${i}`),
].join(', ');
/** @internal The columns every allocation read selects. */
export const ALLOCATION_COLUMNS = 'alloc_key, server_id, demand, grp, fence, created_at';

/** @internal Quoted table names for a validated prefix. */
export function fleetTables(prefix: string): { servers: string; allocations: string; fences: string } {
  return {
    servers: `\`${prefix}fleet_servers\``,
    allocations: `\`${prefix}fleet_allocations\``,
    fences: `\`${prefix}fleet_fences\``,
  };
}

/** @internal JSON path of a validated group name (it contains no quotes). */
export const jsonPath = (name: string): string => `$."${name}"`;

/** Drop zero (and negative) entries: released counters stay in the JSON as 0. */
function positive(values: Record<string, number>): Resources {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (v > 0) out[k] = v;
  return Object.freeze(out);
}

const STATES = new Set<string>(SERVER_STATES);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** @internal Parse one row of the servers table. */
export function toServer(row: unknown, slots: FleetSlots): Server {
  const r = new RowReader('fleet_servers', row);
  const capacity: Record<string, number> = {};
  const allocated: Record<string, number> = {};
  for (const [slot, name] of slots.entries()) {
    const cap = r.integer(`cap${slot}`);
    const used = r.integer(`used${slot}`);
    if (cap > 0) capacity[name] = cap;
    if (used > 0) allocated[name] = used;
  }
  return Object.freeze({
    id: r.text('id'),
    region: r.text('region'),
    state: r.oneOf<ServerState>('state', STATES),
    capacity: Object.freeze(capacity),
    allocated: Object.freeze(allocated),
    labels: Object.freeze(r.record('labels', isString, 'must map names to strings')),
    groups: positive(r.record('grp_counts', isNumber, 'must map names to numbers')),
    generation: r.count('generation'),
    updatedAt: r.date('updated_at'),
  });
}

/** @internal Parse rows of the fences table: the fence each released key is retired up to. */
export function toRetired(rows: readonly unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of rows) {
    const r = new RowReader('fleet_fences', row);
    if (!r.isNull('retired')) out.set(r.text('alloc_key'), r.count('retired'));
  }
  return out;
}

/** @internal Parse one row of the allocations table. */
export function toAllocation(row: unknown): Allocation {
  const r = new RowReader('fleet_allocations', row);
  return Object.freeze({
    key: r.text('alloc_key'),
    serverId: r.text('server_id'),
    demand: Object.freeze(r.record('demand', isNumber, 'must map resources to numbers')),
    group: r.textOrNull('grp'),
    fence: r.isNull('fence') ? null : r.count('fence'),
    createdAt: r.date('created_at'),
  });
}

/** @internal The positive entries of a demand, in a stable order. */
export function demandEntries(demand: Resources): [string, number][] {
  return Object.entries(demand)
    .filter(([, v]) => v > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/** @internal Stable ascending sort by a string key (locks are always taken in id order). */
export function byKey<T>(items: readonly T[], key: (t: T) => string): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => {
      const ka = key(a.item);
      const kb = key(b.item);
      return ka < kb ? -1 : ka > kb ? 1 : a.i - b.i;
    })
    .map((x) => x.item);
}
