/**
 * Rows of the fleet tables, parsed before they leave the adapter, and the small SQL helpers the
 * fleet's statements share.
 *
 * @internal
 * @module
 */
import { type Allocation, type Resources, SERVER_STATES, type Server } from '@ctlplane/core';
import { parseOrThrow } from '@ctlplane/core/driver';
import { z } from 'zod';
import { FLEET_SLOTS } from './migrations.js';
import type { FleetSlots } from './slots.js';

/** JSON columns come back as text on MariaDB and parsed on MySQL 8: accept both. */
const jsonObject = z.union([
  z.string().transform((s, ctx): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
      return z.NEVER;
    }
  }),
  z.record(z.string(), z.unknown()),
]);
const numbers = jsonObject.pipe(z.record(z.string(), z.coerce.number()));
const strings = jsonObject.pipe(z.record(z.string(), z.string()));
const count = z.coerce.number().int().nonnegative();
const amount = z.coerce.number().int();

const slotShape = Object.fromEntries(
  Array.from({ length: FLEET_SLOTS }, (_, i) => [
    [`cap${i}`, amount],
    [`used${i}`, amount],
  ]).flat(),
) as Record<string, typeof amount>;

const serverRow = z.object({
  id: z.string(),
  region: z.string(),
  state: z.enum(SERVER_STATES),
  labels: strings,
  grp_counts: numbers,
  generation: count,
  updated_at: z.date(),
  ...slotShape,
});

const allocationRow = z.object({
  alloc_key: z.string(),
  server_id: z.string(),
  demand: numbers,
  grp: z.string().nullable(),
  fence: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).nullable(),
  created_at: z.date(),
});

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

/** @internal Parse one row of the servers table. */
export function toServer(row: unknown, slots: FleetSlots): Server {
  const r = parseOrThrow(serverRow, row, 'fleet_servers row') as z.output<typeof serverRow> &
    Record<string, number>;
  const capacity: Record<string, number> = {};
  const allocated: Record<string, number> = {};
  for (const [slot, name] of slots.entries()) {
    const cap = r[`cap${slot}`] ?? 0;
    const used = r[`used${slot}`] ?? 0;
    if (cap > 0) capacity[name] = cap;
    if (used > 0) allocated[name] = used;
  }
  return Object.freeze({
    id: r.id,
    region: r.region,
    state: r.state,
    capacity: Object.freeze(capacity),
    allocated: Object.freeze(allocated),
    labels: Object.freeze(r.labels),
    groups: positive(r.grp_counts),
    generation: r.generation,
    updatedAt: r.updated_at,
  });
}

const fenceRow = z.object({
  alloc_key: z.string(),
  retired: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).nullable(),
});

/** @internal Parse rows of the fences table: the fence each released key is retired up to. */
export function toRetired(rows: readonly unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of rows) {
    const r = parseOrThrow(fenceRow, row, 'fleet_fences row');
    if (r.retired !== null) out.set(r.alloc_key, r.retired);
  }
  return out;
}

/** @internal Parse one row of the allocations table. */
export function toAllocation(row: unknown): Allocation {
  const r = parseOrThrow(allocationRow, row, 'fleet_allocations row');
  return Object.freeze({
    key: r.alloc_key,
    serverId: r.server_id,
    demand: Object.freeze(r.demand),
    group: r.grp,
    fence: r.fence,
    createdAt: r.created_at,
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
