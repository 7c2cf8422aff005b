/**
 * A scheduler instance's cached view of the fleet: every server (with this instance's reservations
 * in flight applied), per-region score indexes, resource slots and the scheduling context that
 * filters and strategies read. Correctness never depends on this cache — the fleet re-checks every
 * reservation — only the quality and the conflict rate do.
 *
 * @internal
 * @module
 */
import type { ReserveOutcome, Resources, Server } from '../../fleet/model.js';
import type { MetricsSource } from '../metrics/source.js';
import { combinedScore } from '../pipeline/score.js';
import type {
  CandidateServer,
  PlacementRequest,
  RequestView,
  SchedulingContext,
  Strategy,
} from '../pipeline/types.js';
import { RegionIndex } from './score-index.js';
import { type Hold, ResourceSlots, ServerEntry } from './server-entry.js';

/** @internal */
export interface FleetViewOptions {
  readonly strategies: readonly Strategy[];
  readonly ratios: Resources;
  readonly metrics: MetricsSource | null;
  readonly maxMetricsAgeMs: number;
  /** Keep servers with stale metrics out of the index (the `exclude` staleness policy). */
  readonly excludeStale: boolean;
  /** Score points of per-instance noise in the index order (0: none). */
  readonly jitter: number;
  /** Seed of the noise (the instance). */
  readonly seed: string;
}

/** @internal */
export class FleetView implements SchedulingContext {
  readonly slotsTable = new ResourceSlots();
  readonly entries = new Map<string, ServerEntry>();
  readonly #regions = new Map<string, RegionIndex>();
  readonly #groupServers = new Map<string, Set<ServerEntry>>();
  readonly #strategies: readonly Strategy[];
  readonly #totalWeight: number;
  /** The typical request (mean demand of a recent window): the index ranks servers by its score. */
  #reference: RequestView;
  #windowSum = new Float64Array(0);
  #windowCount = 0;
  readonly #o: FleetViewOptions;
  #ratios = new Float64Array(0);
  now = Date.now();

  constructor(options: FleetViewOptions) {
    this.#o = options;
    this.#strategies = options.strategies;
    this.#totalWeight = options.strategies.reduce((n, s) => n + s.weight, 0);
    this.#reference = {
      id: '',
      region: '',
      demand: {},
      group: null,
      need: new Float64Array(0),
      needSlots: [],
    };
    for (const r of Object.keys(options.ratios)) this.slotsTable.ensure(r);
    this.#syncWidth();
  }

  get resources(): readonly string[] {
    return this.slotsTable.names;
  }

  slot(resource: string): number {
    return this.slotsTable.get(resource);
  }

  metricsStale(server: CandidateServer): boolean {
    const m = server.metrics;
    return !m || this.now - m.at > this.#o.maxMetricsAgeMs;
  }

  groupInDomain(group: string, key: string, value: string): number {
    let n = 0;
    const set = this.#groupServers.get(group);
    if (set === undefined) return 0;
    for (const e of set) if (e.labels[key] === value) n += e.groupCount(group);
    return n;
  }

  region(region: string): RegionIndex | undefined {
    return this.#regions.get(region);
  }

  /** Compile a request: demand per slot (registering new resource names). */
  compile(request: PlacementRequest): RequestView {
    const demand = request.demand;
    const width = this.slotsTable.width;
    for (const r in demand) if (this.slotsTable.get(r) < 0) this.slotsTable.ensure(r);
    if (this.slotsTable.width !== width) this.#syncWidth();
    const need = new Float64Array(this.slotsTable.width);
    const needSlots: number[] = [];
    for (const r in demand) {
      const v = demand[r]!;
      if (v <= 0) continue;
      const i = this.slotsTable.get(r);
      need[i] = v;
      needSlots.push(i);
    }
    this.#observe(need);
    return {
      id: request.id,
      region: request.region,
      demand,
      labels: request.labels,
      group: request.group ?? null,
      need,
      needSlots,
    };
  }

  /** Take a fleet state in, unless it is older than what the view holds. */
  apply(server: Server): void {
    let e = this.entries.get(server.id);
    if (!e) {
      e = new ServerEntry(server, this.slotsTable);
      e.metrics = this.#o.metrics?.get(server.id);
      this.entries.set(server.id, e);
    } else if (server.generation <= e.baseGeneration) {
      return;
    } else if (e.holds.length > 0) {
      if (!e.pending || e.pending.generation < server.generation) e.pending = server;
      return;
    }
    this.#reset(e, server);
  }

  /** Record a reservation about to be sent; the entry looks allocated at once. */
  hold(e: ServerEntry, request: RequestView): Hold {
    const h: Hold = {
      key: request.id,
      entry: e,
      demand: request.demand,
      need: request.need,
      group: request.group ?? null,
      generation: e.generation,
    };
    e.addHold(h);
    if (h.group) this.#syncGroup(e, h.group);
    this.#place(e);
    return h;
  }

  /** True while the hold's expected generation still follows from the confirmed state. */
  isCurrent(h: Hold): boolean {
    const e = h.entry;
    const at = e.holds.indexOf(h);
    return at >= 0 && h.generation === e.baseGeneration + at;
  }

  /** Settle a hold with the fleet's answer (or with `null`: dropped without an answer). */
  settle(h: Hold, outcome: ReserveOutcome | null): void {
    const e = h.entry;
    const ok = outcome?.ok === true;
    const removed = e.removeHold(h, ok, ok ? outcome.generation : 0);
    if (removed.length === 0) return;
    if (!ok) for (const d of removed) if (d.group) this.#syncGroup(e, d.group);
    const fresh = outcome && !outcome.ok ? outcome.server : null;
    if (fresh && fresh.generation > e.baseGeneration) {
      if (e.holds.length === 0) {
        this.#reset(e, fresh);
        return;
      }
      if (!e.pending || e.pending.generation < fresh.generation) e.pending = fresh;
    }
    if (e.holds.length === 0 && e.pending) {
      const pending = e.pending;
      e.pending = null;
      if (pending.generation > e.baseGeneration) {
        this.#reset(e, pending);
        return;
      }
    }
    if (!ok) this.#place(e);
  }

  /** Re-estimate servers whose metrics changed (or all, with no argument). */
  reestimate(ids?: readonly string[]): void {
    this.now = Date.now();
    const source = this.#o.metrics;
    const one = (e: ServerEntry): void => {
      e.metrics = source?.get(e.id);
      this.#place(e);
    };
    if (!ids) for (const e of this.entries.values()) one(e);
    else
      for (const id of ids) {
        const e = this.entries.get(id);
        if (e) one(e);
      }
  }

  #reset(e: ServerEntry, server: Server): void {
    const before = e.groups.size > 0 ? [...e.groups.keys()] : [];
    const width = this.slotsTable.width;
    e.reset(server, this.#ratios);
    if (this.slotsTable.width !== width) this.#syncWidth();
    for (const g of before) this.#syncGroup(e, g);
    for (const g of e.groups.keys()) this.#syncGroup(e, g);
    this.#place(e);
  }

  #syncGroup(e: ServerEntry, group: string): void {
    let set = this.#groupServers.get(group);
    if (e.groups.has(group)) {
      if (!set) {
        set = new Set();
        this.#groupServers.set(group, set);
      }
      set.add(e);
    } else if (set) {
      set.delete(e);
      if (set.size === 0) this.#groupServers.delete(group);
    }
  }

  #place(e: ServerEntry): void {
    // Never placeable now: out of the index, or every walk would scan past it (a stale server
    // stays empty, so it would rise to the top and stay there). Fresh metrics bring it back.
    if (e.state !== 'active' || (this.#o.excludeStale && this.metricsStale(e))) {
      e.partition?.remove(e);
      e.partition = null;
      return;
    }
    let region = this.#regions.get(e.region);
    if (!region) {
      region = new RegionIndex(this.slotsTable.width);
      this.#regions.set(e.region, region);
    }
    const p = region.partitionFor(e.shape);
    if (e.partition !== p) {
      e.partition?.remove(e);
      e.partition = p;
    }
    if (e.jitter === undefined)
      e.jitter = this.#o.jitter > 0 ? (unit(`${this.#o.seed}\u0000${e.id}`) - 0.5) * 2 * this.#o.jitter : 0;
    const est = combinedScore(e, this.#reference, this, this.#strategies, this.#totalWeight) + e.jitter;
    p.place(e, Math.max(0, Math.min(100, est)));
  }

  /** A new resource appeared: widen ratios, entries and bounds. */
  #syncWidth(): void {
    const w = this.slotsTable.width;
    this.#ratios = new Float64Array(w);
    for (let i = 0; i < w; i++) this.#ratios[i] = this.#o.ratios[this.slotsTable.names[i]!] ?? 1;
    for (const r of this.#regions.values()) r.widen(w);
    for (const e of this.entries.values()) e.widen(this.#ratios);
    this.#windowSum = new Float64Array(w);
    this.#windowCount = 0;
    const need = new Float64Array(w);
    need.set(this.#reference.need.subarray(0, Math.min(w, this.#reference.need.length)));
    this.#reference = { ...this.#reference, need };
  }

  /**
   * Track the mean demand of recent requests. When it moves by more than a quarter in any
   * resource, it becomes the new reference and every server is re-estimated.
   */
  #observe(need: Float64Array): void {
    const sum = this.#windowSum;
    for (let i = 0; i < need.length && i < sum.length; i++) sum[i]! += need[i]!;
    if (++this.#windowCount < REFERENCE_WINDOW) return;
    const ref = this.#reference.need;
    let moved = false;
    const next = new Float64Array(sum.length);
    for (let i = 0; i < sum.length; i++) {
      next[i] = sum[i]! / this.#windowCount;
      const old = ref[i] ?? 0;
      if (Math.abs(next[i]! - old) > 0.25 * Math.max(old, 1e-9)) moved = true;
    }
    sum.fill(0);
    this.#windowCount = 0;
    if (!moved) return;
    const needSlots = [...next.keys()].filter((i) => next[i]! > 0);
    this.#reference = { ...this.#reference, need: next, needSlots };
    this.reestimate();
  }
}

/** A stable pseudo-random number in [0, 1) from a string (FNV-1a). */
function unit(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 4294967296;
}

/** Requests per window of the reference demand. */
const REFERENCE_WINDOW = 256;
