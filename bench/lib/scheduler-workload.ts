/**
 * The scheduler benchmark's workload, identical for ctlplane's Scheduler V2 and the "Scheduler V1"
 * baseline: a seeded fleet of heterogeneous servers over four regions, seeded requests, live
 * metrics, and the two strategy mixes (spread and bin-pack) with every built-in filter.
 */
import {
  antiAffinity,
  antiAffinityFilter,
  balancedAllocation,
  type Filter,
  leastAllocated,
  liveLoad,
  mostAllocated,
  type PipelineOptions,
  PushMetricsSource,
  type ServerInput,
  type Strategy,
} from '@ctlplane/core';

/** A seeded PRNG (mulberry32), so every run and both schedulers see the same inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const REGIONS = ['nyc1', 'sfo2', 'ams3', 'sgp1'] as const;
const SHAPES = [
  { cpu: 32, memory: 128 },
  { cpu: 64, memory: 256 },
  { cpu: 96, memory: 512 },
] as const;

/** `count` servers: three shapes, 50 racks per region, 10% with GPUs, 2% draining, 1% down. */
export function makeServers(count: number, seed = 1): ServerInput[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const shape = SHAPES[Math.floor(r() * SHAPES.length)]!;
    const x = r();
    return {
      id: `hv-${String(i).padStart(5, '0')}`,
      region: REGIONS[i % REGIONS.length]!,
      capacity: { ...shape },
      labels: { rack: `rack-${Math.floor(i / REGIONS.length) % 50}`, ...(r() < 0.1 ? { gpu: 'yes' } : {}) },
      state: x < 0.02 ? 'draining' : x < 0.03 ? 'down' : 'active',
    };
  });
}

/** One placement request of the workload. */
export interface WorkItem {
  region: string;
  cpu: number;
  memory: number;
  gpu: boolean;
  group: string | null;
}

/** `count` requests: small to large shapes, 5% needing a GPU, 30% in anti-affinity groups of ~10. */
export function makeRequests(count: number, seed = 2): WorkItem[] {
  const r = rng(seed);
  const cpus = [1, 2, 4, 8];
  const mems = [2, 4, 8, 16, 32];
  return Array.from({ length: count }, (_, i) => ({
    region: REGIONS[Math.floor(r() * REGIONS.length)]!,
    cpu: cpus[Math.floor(r() * cpus.length)]!,
    memory: mems[Math.floor(r() * mems.length)]!,
    gpu: r() < 0.05,
    group: r() < 0.3 ? `grp-${Math.floor(i / 33)}` : null,
  }));
}

/** Live load per server, all fresh except 1% that stopped reporting an hour ago. */
export function makeMetrics(servers: readonly ServerInput[], seed = 3): PushMetricsSource {
  const r = rng(seed);
  const m = new PushMetricsSource();
  const now = Date.now();
  for (const s of servers) {
    const stale = r() < 0.01;
    m.report(s.id, { node_load1: r() * (s.capacity.cpu ?? 1) }, stale ? now - 3_600_000 : now);
  }
  return m;
}

/** The two strategy mixes of the benchmark. */
export type Mix = 'spread' | 'binpack';

/** Strategies of a mix: every built-in strategy, weighted. */
export function strategiesFor(mix: Mix): Strategy[] {
  const core = mix === 'spread' ? leastAllocated({ weight: 3 }) : mostAllocated({ weight: 3 });
  return [
    core,
    balancedAllocation({ weight: 1 }),
    liveLoad({ weight: 0.5 }),
    antiAffinity({ weight: 1, scope: { label: 'rack' } }),
  ];
}

/** Extra filters on top of the built-ins (state, region, capacity, labels, metric staleness). */
export function extraFilters(): Filter[] {
  return [antiAffinityFilter('server')];
}

/** Pipeline options shared by both schedulers for a mix. */
export function pipelineFor(mix: Mix, metrics: PushMetricsSource): PipelineOptions {
  return {
    strategies: strategiesFor(mix),
    filters: extraFilters(),
    overcommit: { cpu: 4, memory: 1 },
    metrics,
    staleness: { maxAgeMs: 600_000, policy: 'exclude' },
  };
}
