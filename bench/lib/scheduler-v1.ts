/**
 * "Scheduler V1", the baseline: one event at a time, every server filtered and scored, all
 * feasible servers sorted, the best reserved, then the event placed. Same filters, strategies,
 * store and fleet as ctlplane's scheduler, so only the search differs.
 */
import {
  type CandidateServer,
  type ClaimInput,
  capacityFilter,
  type Filter,
  type Fleet,
  labelsFilter,
  type MetricsSample,
  type MetricsSource,
  metricsFreshFilter,
  type PlacementRequest,
  type RequestView,
  type Resources,
  regionFilter,
  type SchedulingContext,
  type Server,
  type StoredEvent,
  type Strategy,
  stateFilter,
  type TransitionInput,
} from '@ctlplane/core';

const SLOTS = ['cpu', 'memory'];

class V1Server implements CandidateServer {
  id: string;
  region: string;
  state: Server['state'];
  labels: Readonly<Record<string, string>>;
  capacity: Resources;
  usable: Float64Array;
  used: Float64Array;
  generation: number;
  groups: Map<string, number>;
  metrics: MetricsSample | undefined;
  constructor(s: Server, slots: readonly string[], ratios: Resources, metrics: MetricsSource) {
    this.metrics = metrics.get(s.id);
    this.id = s.id;
    this.region = s.region;
    this.state = s.state;
    this.labels = s.labels;
    this.capacity = s.capacity;
    this.usable = Float64Array.from(slots, (r) => (s.capacity[r] ?? 0) * (ratios[r] ?? 1));
    this.used = Float64Array.from(slots, (r) => s.allocated[r] ?? 0);
    this.generation = s.generation;
    this.groups = new Map(Object.entries(s.groups));
  }
  groupCount(group: string): number {
    return this.groups.get(group) ?? 0;
  }
  free(resource: string): number {
    const i = SLOTS.indexOf(resource);
    return i < 0 ? 0 : this.usable[i]! - this.used[i]!;
  }
}

/** Options of the baseline. */
export interface V1Options {
  store: {
    claim(input: ClaimInput): Promise<StoredEvent[]>;
    transition(input: TransitionInput): Promise<StoredEvent>;
  };
  fleet: Fleet;
  strategies: readonly Strategy[];
  filters: readonly Filter[];
  overcommit: Resources;
  metrics: MetricsSource;
  maxAgeMs: number;
  request: (e: StoredEvent) => PlacementRequest;
}

/** Run the baseline until no pending event is left; `onLoaded` runs once the fleet is in memory. */
export async function runV1(
  o: V1Options,
  onLoaded: () => void = () => {},
): Promise<{ placed: number; failed: number }> {
  const slots = SLOTS;
  const servers = (await o.fleet.list()).map((s) => new V1Server(s, slots, o.overcommit, o.metrics));
  onLoaded();
  const byRegion = servers;
  const ctx: SchedulingContext = {
    resources: slots,
    slot: (r) => slots.indexOf(r),
    now: Date.now(),
    metricsStale: (s) => {
      const m = s.metrics;
      return !m || Date.now() - m.at > o.maxAgeMs;
    },
    groupInDomain: (group, key, value) => {
      // Computed once per request and domain label, then looked up.
      const cacheKey = `${group}\u0000${key}`;
      let counts = domains.get(cacheKey);
      if (!counts) {
        counts = new Map();
        for (const s of servers) {
          const n = s.groupCount(group);
          const v = s.labels[key];
          if (n > 0 && v !== undefined) counts.set(v, (counts.get(v) ?? 0) + n);
        }
        domains.set(cacheKey, counts);
      }
      return counts.get(value) ?? 0;
    },
  };
  const domains = new Map<string, Map<string, number>>();
  const filters = [
    stateFilter(),
    regionFilter(),
    capacityFilter(),
    labelsFilter(),
    metricsFreshFilter(),
    ...o.filters,
  ];
  const total = o.strategies.reduce((n, s) => n + s.weight, 0);
  let placed = 0;
  let failed = 0;
  for (;;) {
    const batch = await o.store.claim({ owner: 'v1', status: 'pending', limit: 500, leaseMs: 600_000 });
    if (batch.length === 0) return { placed, failed };
    for (const event of batch) {
      domains.clear();
      const req = o.request(event);
      const need = Float64Array.from(slots, (r) => req.demand[r] ?? 0);
      const r: RequestView = { ...req, need, needSlots: [0, 1].filter((i) => need[i]! > 0) };
      const scored: { s: V1Server; score: number }[] = [];
      for (const s of byRegion) {
        if (!filters.every((f) => f.test(s, r, ctx))) continue;
        let sum = 0;
        for (const st of o.strategies)
          sum += st.weight * Math.min(100, Math.max(0, st.score(s, r, ctx) || 0));
        scored.push({ s, score: sum / total });
      }
      scored.sort((a, b) => b.score - a.score);
      let done = false;
      for (const { s } of scored) {
        const [out] = await o.fleet.reserve([
          {
            key: req.id,
            serverId: s.id,
            generation: s.generation,
            demand: req.demand,
            ratios: o.overcommit,
            group: req.group ?? null,
          },
        ]);
        if (!out!.ok) continue;
        s.generation = out!.generation;
        s.used[0]! += need[0]!;
        s.used[1]! += need[1]!;
        if (req.group) s.groups.set(req.group, s.groupCount(req.group) + 1);
        await o.store.transition({
          id: event.id,
          from: 'pending',
          to: 'placed',
          version: event.version,
          serverId: s.id,
        });
        placed++;
        done = true;
        break;
      }
      if (!done) {
        await o.store.transition({
          id: event.id,
          from: 'pending',
          to: 'failed',
          version: event.version,
          error: 'no server fits',
        });
        failed++;
      }
    }
  }
}
