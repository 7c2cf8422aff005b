/**
 * The small interfaces a filter or a ranking strategy implements, and what they are given.
 *
 * @module
 */
import type { Resources, ServerState } from '../../fleet/model.js';
import type { MetricsSample } from '../metrics/source.js';

/**
 * A server as filters and strategies see it: the fleet's state plus this instance's reservations
 * still in flight. `usable` and `used` are indexed by resource slot (see
 * {@link SchedulingContext.resources}); read them for speed, or use `free(resource)`.
 */
export interface CandidateServer {
  /** Server id. */
  readonly id: string;
  /** Region. */
  readonly region: string;
  /** State; only `active` servers can be reserved. */
  readonly state: ServerState;
  /** Labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** Physical capacity per resource, as registered. */
  readonly capacity: Resources;
  /** Usable capacity per slot: capacity × overcommit ratio. */
  readonly usable: Float64Array;
  /** Allocated per slot, including reservations in flight. */
  readonly used: Float64Array;
  /** The server's latest metrics, if any (see {@link SchedulingContext.metricsStale}). */
  readonly metrics: MetricsSample | undefined;
  /** Members of an anti-affinity group on this server. */
  groupCount(group: string): number;
  /** Usable minus used for a resource by name. */
  free(resource: string): number;
}

/** What to place: the scheduler builds it from an event with its `request` option. */
export interface PlacementRequest {
  /** Unique id; the reservation key (the event id for events). */
  readonly id: string;
  /** Only servers of this region are eligible. */
  readonly region: string;
  /** Resources to reserve. */
  readonly demand: Resources;
  /** Labels the server must carry, e.g. `{ gpu: 'a100' }`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Anti-affinity group: members avoid sharing a server (or a rack). */
  readonly group?: string | null;
}

/** A request as filters and strategies receive it: `need` is the demand per resource slot. */
export interface RequestView extends PlacementRequest {
  /** Demand per resource slot. */
  readonly need: Float64Array;
  /** The slots with a positive demand. */
  readonly needSlots: readonly number[];
}

/** Shared, read-only state for one scheduling decision. */
export interface SchedulingContext {
  /** Resource names by slot. */
  readonly resources: readonly string[];
  /** The slot of a resource, or -1 when no server or request has named it. */
  slot(resource: string): number;
  /** The time of the decision (epoch ms). */
  readonly now: number;
  /** True when the server's metrics are missing or older than the staleness limit. */
  metricsStale(server: CandidateServer): boolean;
  /** Members of `group` on servers whose label `key` equals `value` (e.g. in one rack). */
  groupInDomain(group: string, key: string, value: string): number;
}

/**
 * A hard constraint. `test` runs on the hot path: make it cheap and allocation-free. `reason` is
 * only asked for explanations; keep reasons coarse (`insufficient cpu`, not the numbers) so they
 * group well.
 *
 * @example
 * ```ts
 * const noCanary: Filter = {
 *   name: 'no-canary',
 *   test: (server) => server.labels.canary !== 'true',
 *   reason: () => 'canary server',
 * };
 * ```
 */
export interface Filter {
  /** Unique name, shown in explanations. */
  readonly name: string;
  /** True when the server may take the request. */
  test(server: CandidateServer, request: RequestView, ctx: SchedulingContext): boolean;
  /** Why the server was rejected (default: `rejected by <name>`). */
  reason?(server: CandidateServer, request: RequestView, ctx: SchedulingContext): string;
}

/**
 * A ranking strategy. `score` returns 0..100, higher is better (values outside are clamped); the
 * pipeline combines strategies as a weighted mean. The scheduler also keeps every server indexed by
 * its combined score for a typical request (the mean demand of recent requests), so it scores
 * exactly only the most promising few per request: a strategy's score should change smoothly with
 * the demand, and be cheap.
 *
 * @example
 * ```ts
 * const preferNew: Strategy = {
 *   name: 'prefer-new-hardware',
 *   weight: 1,
 *   score: (server) => (server.labels.gen === '5' ? 100 : 0),
 * };
 * ```
 */
export interface Strategy {
  /** Unique name, shown in explanations. */
  readonly name: string;
  /** Relative weight in the combined score (positive). */
  readonly weight: number;
  /** Score for placing `request` on `server`, 0..100. */
  score(server: CandidateServer, request: RequestView, ctx: SchedulingContext): number;
}
