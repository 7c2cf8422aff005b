/**
 * The in-process part of the scheduler benchmark: one workload placed by Scheduler V2 and by the
 * V1 baseline on fresh in-memory stores and fleets, timed, with the placement quality measured on
 * the fleet afterwards.
 */
import { MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import {
  defineEventTypes,
  EventStore,
  Fleet,
  type PlacementRequest,
  Scheduler,
  type SchedulerOptions,
  type Server,
  type ServerInput,
  type StoredEvent,
} from '@ctlplane/core';
import { z } from 'zod';
import { runV1 } from './scheduler-v1.js';
import {
  extraFilters,
  type Mix,
  makeMetrics,
  pipelineFor,
  strategiesFor,
  type WorkItem,
} from './scheduler-workload.js';

const typeMap = {
  'droplet.create': z.object({
    vcpus: z.number().int().positive(),
    memoryGib: z.number().int().positive(),
    gpu: z.boolean(),
    group: z.string().nullable(),
  }),
};

/** The benchmark's event types. */
export type TypeMap = typeof typeMap;
export const types = defineEventTypes(typeMap);

/** What a run measured. */
export interface RunResult {
  readonly placed: number;
  readonly failed: number;
  readonly ms: number;
  readonly cpuMs: number;
  readonly perSecond: number;
  /** Servers holding any reservation. */
  readonly serversUsed: number;
  /** Standard deviation of utilisation (mean of cpu and memory, 0..100) over active servers. */
  readonly utilisationStd: number;
}

/** The request of a benchmark event. */
export function requestOf(e: StoredEvent): PlacementRequest {
  const p = e.payload as { vcpus: number; memoryGib: number; gpu: boolean; group: string | null };
  return {
    id: String(e.id),
    region: e.region,
    demand: { cpu: p.vcpus, memory: p.memoryGib },
    ...(p.gpu ? { labels: { gpu: 'yes' } } : {}),
    group: p.group,
  };
}

/** Fill a fresh memory store and fleet with the workload. */
export async function setup(servers: readonly ServerInput[], items: readonly WorkItem[]) {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types, maxBatchSize: 5_000 });
  const fleet = new Fleet({ driver: new MemoryFleetDriver() });
  for (let i = 0; i < servers.length; i += 1_000) await fleet.upsert(servers.slice(i, i + 1_000));
  for (let i = 0; i < items.length; i += 5_000) {
    await store.append(
      items.slice(i, i + 5_000).map((w) => ({
        type: 'droplet.create' as const,
        region: w.region,
        payload: { vcpus: w.cpu, memoryGib: w.memory, gpu: w.gpu, group: w.group },
      })),
    );
  }
  return { store, fleet };
}

/** Quality figures of the fleet after a run. */
export function quality(servers: readonly Server[], overcommit: Record<string, number>) {
  const active = servers.filter((s) => s.state === 'active');
  const util = active.map((s) => {
    const u = (r: string) => (s.allocated[r] ?? 0) / ((s.capacity[r] ?? 1) * (overcommit[r] ?? 1));
    return ((u('cpu') + u('memory')) / 2) * 100;
  });
  const mean = util.reduce((a, b) => a + b, 0) / util.length;
  const std = Math.sqrt(util.reduce((a, b) => a + (b - mean) ** 2, 0) / util.length);
  return {
    serversUsed: servers.filter((s) => Object.keys(s.allocated).length > 0).length,
    utilisationStd: std,
  };
}

/** Time `fn` from the moment it calls `loaded()` (the initial fleet load is not counted). */
async function measure(
  fn: (loaded: () => void) => Promise<{ placed: number; failed: number }>,
  fleet: Fleet,
  ratios: Record<string, number>,
) {
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const { placed, failed } = await fn(() => {
    cpu0 = process.cpuUsage();
    t0 = performance.now();
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const q = quality(await fleet.list(), ratios);
  return {
    placed,
    failed,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1_000,
    perSecond: ((placed + failed) / ms) * 1_000,
    ...q,
  };
}

/** Place the workload with Scheduler V2. */
export async function runV2(
  mix: Mix,
  servers: readonly ServerInput[],
  items: readonly WorkItem[],
  overrides: Partial<SchedulerOptions<TypeMap>> = {},
): Promise<RunResult> {
  const { store, fleet } = await setup(servers, items);
  const options = pipelineFor(mix, makeMetrics(servers));
  const scheduler = new Scheduler({
    store,
    fleet,
    request: (e) => {
      const r = requestOf(e);
      return { demand: r.demand, ...(r.labels ? { labels: r.labels } : {}), group: r.group ?? null };
    },
    ...options,
    attempts: 1,
    claimBatch: 1_000,
    maxInFlight: 4_096,
    random: Math.random,
    ...overrides,
  });
  const result = await measure(
    async (loaded) => {
      await scheduler.dryRun([]); // loads the fleet view
      loaded();
      await scheduler.start();
      await scheduler.drain();
      const s = scheduler.stats();
      return { placed: s.placed, failed: s.failed };
    },
    fleet,
    options.overcommit ?? {},
  );
  await scheduler.stop();
  return result;
}

/** Place the workload with the V1 baseline. */
export async function runBaseline(
  mix: Mix,
  servers: readonly ServerInput[],
  items: readonly WorkItem[],
): Promise<RunResult> {
  const { store, fleet } = await setup(servers, items);
  const metrics = makeMetrics(servers);
  const overcommit = { cpu: 4, memory: 1 };
  return measure(
    (loaded) =>
      runV1(
        {
          store,
          fleet,
          strategies: strategiesFor(mix),
          filters: extraFilters(),
          overcommit,
          metrics,
          maxAgeMs: 600_000,
          request: requestOf,
        },
        loaded,
      ),
    fleet,
    overcommit,
  );
}
