/**
 * Writing a custom ranking strategy: `energyAware` (see energy-aware.ts) next to the built-in
 * `leastAllocated`, in a real Scheduler on the in-memory store and fleet. Prints where the
 * droplets went by hardware generation, the same requests planned without the custom strategy,
 * and the scheduler's explanation of one decision.
 *
 *   node --import tsx packages/examples/src/custom-strategy/main.ts [--events 60] [--weight 3]
 */
import { MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import {
  defineEventTypes,
  EventStore,
  Fleet,
  leastAllocated,
  PlacementPipeline,
  PushMetricsSource,
  Scheduler,
} from '@ctlplane/core';
import { z } from 'zod';
import { parseFlags } from '../shared/cli.js';
import { energyAware, WATTS_PER_VCPU } from './energy-aware.js';

const USAGE = `Usage: node --import tsx packages/examples/src/custom-strategy/main.ts [options]
  --events <n>   droplets to place (default 60)
  --weight <w>   weight of energy-aware against least-allocated's 1 (default 3)
`;
const o = parseFlags(
  z
    .object({
      events: z.coerce.number().int().min(1).max(10_000).default(60),
      weight: z.coerce.number().positive().max(100).default(3),
    })
    .strict(),
  ['events', 'weight'],
  USAGE,
);

const types = defineEventTypes({ 'droplet.create': z.object({ vcpus: z.number().int().positive() }) });
const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
const fleet = new Fleet({ driver: new MemoryFleetDriver() });
const metrics = new PushMetricsSource();

// Twelve hypervisors, three hardware generations, every one idling at 150 W.
const servers = Array.from({ length: 12 }, (_, i) => ({
  id: `hv-${String(i + 1).padStart(2, '0')}`,
  region: 'nyc1',
  capacity: { cpu: 48, memory: 196_608 },
  labels: { gen: String(4 + (i % 3)) },
}));
await fleet.upsert(servers);
for (const s of servers) metrics.report(s.id, { power_watts: 150 });
console.log(
  `fleet: ${servers.length} hypervisors, gen4/gen5/gen6 drawing ${Object.values(WATTS_PER_VCPU).join('/')} W per busy vCPU`,
);

const strategies = [energyAware({ weight: o.weight }), leastAllocated()];
const scheduler = new Scheduler({
  store,
  fleet,
  request: (e) => ({ demand: { cpu: e.payload.vcpus, memory: e.payload.vcpus * 4_096 } }),
  strategies,
  metrics,
  overcommit: { cpu: 2, memory: 1 },
});
// The hypervisors' draw grows as droplets land on them (a real fleet reports it with heartbeats).
scheduler.on('scheduler:placed', async (e) => {
  const placed = await store.get(e.eventId);
  const server = servers.find((s) => s.id === e.serverId)!;
  const before = metrics.get(server.id)?.values.power_watts ?? 150;
  const added = (placed?.payload.vcpus ?? 0) * (WATTS_PER_VCPU[server.labels.gen] ?? 15);
  metrics.report(server.id, { power_watts: before + added });
});
await scheduler.start();

const sizes = [1, 2, 2, 4, 8];
await store.append(
  Array.from({ length: o.events }, (_, i) => ({
    type: 'droplet.create' as const,
    payload: { vcpus: sizes[i % sizes.length]! },
    region: 'nyc1',
  })),
);
await scheduler.drain();

const placed = await store.query({ status: 'placed', limit: 1_000 });
const gen = (serverId: string | null) => servers.find((s) => s.id === serverId)?.labels.gen ?? '?';
/** vCPUs per hardware generation, e.g. `gen4 49, gen5 62, gen6 93`. */
function byGeneration(placements: readonly { serverId: string | null; vcpus: number }[]): string {
  const sums = new Map<string, number>();
  for (const p of placements) sums.set(gen(p.serverId), (sums.get(gen(p.serverId)) ?? 0) + p.vcpus);
  return [...sums]
    .sort()
    .map(([g, n]) => `gen${g} ${n}`)
    .join(', ');
}
console.log(
  `placed ${placed.events.length}/${o.events} droplets (energy-aware x${o.weight} + least-allocated x1)`,
);
console.log(
  `  vCPUs by generation: ${byGeneration(placed.events.map((e) => ({ serverId: e.serverId, vcpus: e.payload.vcpus })))}`,
);

// The same requests planned on an empty fleet with the built-in strategy alone, for comparison.
const baseline = new PlacementPipeline({ strategies: [leastAllocated()], overcommit: { cpu: 2, memory: 1 } });
baseline.update(
  servers.map((s) => ({
    ...s,
    state: 'active',
    allocated: {},
    groups: {},
    generation: 1,
    updatedAt: new Date(),
  })),
);
const requests = placed.events.map((e) => ({
  id: String(e.id),
  region: 'nyc1',
  demand: { cpu: e.payload.vcpus, memory: e.payload.vcpus * 4_096 },
}));
const plan = baseline.dryRun(requests);
console.log(
  `  least-allocated alone: ${byGeneration(plan.map((p, i) => ({ serverId: p.serverId, vcpus: requests[i]!.demand.cpu })))}`,
);
baseline.close();

// Why would the next 4-vCPU droplet go where it goes?
const x = await scheduler.explain({ id: 'next', region: 'nyc1', demand: { cpu: 4, memory: 16_384 } });
console.log(`explain: ${x.summary}`);
for (const c of x.candidates.slice(0, 3)) {
  const parts = c.strategies.map((s) => `${s.name} ${s.raw.toFixed(1)} x${s.weight}`).join(', ');
  console.log(`  ${c.serverId} (gen${gen(c.serverId)}): score ${c.score.toFixed(1)} = ${parts}`);
}

await scheduler.stop();
await store.close();
await fleet.close();
