/**
 * The decision pipeline without any I/O: filters → scorers → selection over a cached view of the
 * fleet. The {@link Scheduler} drives one; use one directly to plan or explain offline.
 *
 * @module
 */
import type { z } from 'zod';
import type { Server } from '../../fleet/model.js';
import { parseOrThrow } from '../../validation.js';
import {
  capacityFilter,
  labelsFilter,
  metricsFreshFilter,
  regionFilter,
  stateFilter,
} from '../filters/builtin.js';
import { type PipelineOptions, pipelineSchema } from '../runtime/options.js';
import { leastAllocated } from '../strategies/allocation.js';
import { FleetView } from '../view/fleet-view.js';
import type { Hold, ServerEntry } from '../view/server-entry.js';
import { type Explanation, explain } from './explain.js';
import { choose, type Ranked, rank } from './rank.js';
import type { Filter, PlacementRequest, RequestView, Strategy } from './types.js';

/** Where a dry run would put one request. */
export interface DryRunPlacement {
  /** The request. */
  readonly requestId: string;
  /** The chosen server, or null when nothing fits. */
  readonly serverId: string | null;
  /** Its combined score, or null. */
  readonly score: number | null;
  /** Why nothing fits (only for unplaced requests). */
  readonly explanation?: Explanation;
}

/**
 * Filters, strategies and selection over a cached view of the fleet.
 *
 * @example
 * ```ts
 * const pipeline = new PlacementPipeline({ strategies: [mostAllocated({ weight: 2 }), balancedAllocation()] });
 * pipeline.update(await fleet.list());
 * const plan = pipeline.dryRun([{ id: 'r1', region: 'nyc1', demand: { cpu: 2 } }]);
 * ```
 */
export class PlacementPipeline {
  /** @internal */
  readonly view: FleetView;
  /** Every filter, in the order they run (built-in first). */
  readonly filters: readonly Filter[];
  /** Every strategy. */
  readonly strategies: readonly Strategy[];
  /**
   * The filters a walk still runs: the index guarantees state and region (it holds only the
   * active servers of one region) and the walk checks capacity inline.
   */
  readonly #walkFilters: readonly Filter[];
  readonly #o: z.output<typeof pipelineSchema>;
  readonly #random: () => number;
  readonly #unsubscribe: () => void;

  /** @param options - strategies, filters, ratios, metrics and limits; validated here */
  constructor(options: PipelineOptions = {}) {
    const { strategies, filters, metrics, random, ...rest } = options;
    this.#o = Object.freeze(parseOrThrow(pipelineSchema.strict(), rest, 'pipeline options'));
    // Hot arrays stay unfrozen: V8 iterates frozen arrays on a slower path.
    this.strategies = [...(strategies ?? [leastAllocated()])];
    const names = new Set<string>();
    for (const s of this.strategies) {
      if (!(s.weight > 0) || typeof s.score !== 'function')
        throw new TypeError(`strategy ${s.name}: needs a positive weight and score()`);
      if (names.has(s.name)) throw new TypeError(`strategy ${s.name} is listed twice`);
      names.add(s.name);
    }
    const checked = [labelsFilter()];
    if (metrics && this.#o.staleness.policy === 'exclude') checked.push(metricsFreshFilter());
    this.#walkFilters = [...checked, ...(filters ?? [])];
    this.filters = [stateFilter(), regionFilter(), capacityFilter(), ...this.#walkFilters];
    this.#random = random ?? Math.random;
    this.view = new FleetView({
      strategies: this.strategies,
      ratios: this.#o.overcommit,
      metrics: metrics ?? null,
      maxMetricsAgeMs: this.#o.staleness.maxAgeMs,
      excludeStale: metrics !== undefined && this.#o.staleness.policy === 'exclude',
      jitter: this.#o.jitter,
      seed: this.#o.seed ?? String(Math.random()),
    });
    this.#unsubscribe = metrics?.subscribe((ids) => this.view.reestimate(ids)) ?? (() => {});
  }

  /** Stop following the metrics source. */
  close(): void {
    this.#unsubscribe();
  }

  /** The overcommit ratios in force. */
  get overcommit(): Readonly<Record<string, number>> {
    return this.#o.overcommit;
  }

  /** Servers known to the pipeline. */
  get size(): number {
    return this.view.entries.size;
  }

  /** Take fleet states in (older generations than what is held are ignored). */
  update(servers: Iterable<Server>): void {
    for (const s of servers) this.view.apply(s);
  }

  /** @internal Compile a request for the hot path. */
  compile(request: PlacementRequest): RequestView {
    return this.view.compile(request);
  }

  /** @internal Feasible candidates, best first, skipping `exclude`; index of the one to try first. */
  rank(r: RequestView, exclude?: ReadonlySet<ServerEntry>): { ranked: Ranked[]; first: number } {
    this.view.now = Date.now();
    const limits = { top: this.#o.candidates, sample: this.#o.sample, maxScan: this.#o.maxScan };
    const ranked = rank(this.view, r, this.#walkFilters, this.strategies, limits, this.#random, exclude);
    return { ranked, first: choose(ranked, this.#o.topK, this.#random) };
  }

  /** Explain where `request` would go and why, against every known server. */
  explain(request: PlacementRequest): Explanation {
    const r = this.compile(request);
    const { ranked, first } = this.rank(r);
    const selected = first >= 0 ? ranked[first]!.entry.id : null;
    return explain(this.view, r, this.filters, this.strategies, selected, this.#o.explainLimit);
  }

  /**
   * Place requests one after another on the cached view without reserving anything, then undo:
   * the plan the scheduler would make now. Requests that fit nowhere carry an explanation.
   */
  dryRun(requests: readonly PlacementRequest[]): DryRunPlacement[] {
    const holds: Hold[] = [];
    try {
      return requests.map((request) => {
        const r = this.compile(request);
        const { ranked, first } = this.rank(r);
        const pick = ranked[first];
        if (!pick) {
          const explanation = explain(
            this.view,
            r,
            this.filters,
            this.strategies,
            null,
            this.#o.explainLimit,
          );
          return { requestId: r.id, serverId: null, score: null, explanation };
        }
        holds.push(this.view.hold(pick.entry, r));
        return { requestId: r.id, serverId: pick.entry.id, score: pick.score };
      });
    } finally {
      for (const h of holds.reverse()) this.view.settle(h, null);
    }
  }
}
