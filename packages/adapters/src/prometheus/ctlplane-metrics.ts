/**
 * `CtlplaneMetrics`: turns the typed events of ctlplane components into Prometheus counters,
 * histograms and gauges on a prom-client registry.
 *
 * @module
 */
import type {
  EventRouter,
  EventStore,
  EventTypeMap,
  Harpoon,
  MessageBus,
  OutboxRelay,
  Scheduler,
} from '@ctlplane/core';
import { parseOrThrow } from '@ctlplane/core/driver';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { z } from 'zod';
import { LATENCY_BUCKETS } from './buckets.js';
import { observeBus } from './bus-metrics.js';
import { Families } from './families.js';
import { observeHarpoon, observeRelay } from './harpoon-metrics.js';
import { observeRouter } from './router-metrics.js';
import { observeScheduler } from './scheduler-metrics.js';
import { observeStore } from './store-metrics.js';

/** Options of {@link CtlplaneMetrics}. */
export interface CtlplaneMetricsOptions {
  /** The registry to fill (default: a new one). One `CtlplaneMetrics` per registry and prefix. */
  registry?: Registry;
  /** Prefix of every metric name (default `ctlplane_`). */
  prefix?: string;
  /** Buckets of the placement latency histogram, in seconds (default 1 ms to 30 s). */
  latencyBuckets?: readonly number[];
  /** Also collect prom-client's default process metrics (CPU, memory, event loop; default false). */
  defaultMetrics?: boolean;
}

const schema = z
  .object({
    registry: z.instanceof(Registry).optional(),
    prefix: z
      .string()
      .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be a valid Prometheus metric name prefix')
      .or(z.literal(''))
      .default('ctlplane_'),
    latencyBuckets: z.array(z.number().positive()).min(1).readonly().default(LATENCY_BUCKETS),
    defaultMetrics: z.boolean().default(false),
  })
  .strict();

/**
 * Prometheus metrics for ctlplane components. Observe each component once; every `observe*` call
 * returns a function that stops observing it. Serve {@link CtlplaneMetrics.metrics} at `/metrics`.
 *
 * @example
 * ```ts
 * import { CtlplaneMetrics } from '@ctlplane/adapters/prometheus';
 *
 * const metrics = new CtlplaneMetrics();
 * metrics.observeStore(store);
 * metrics.observeScheduler(scheduler);
 * metrics.observeRouter(router);
 * metrics.trackConnections('router', () => driver.connections());
 * // in your HTTP handler for GET /metrics:
 * //   res.setHeader('content-type', metrics.contentType); res.end(await metrics.metrics());
 * ```
 */
export class CtlplaneMetrics {
  /** The registry the metrics live in. */
  readonly registry: Registry;
  readonly #families: Families;
  readonly #buckets: readonly number[];
  readonly #removers = new Set<() => void>();

  /** @param options - registry, prefix and buckets; validated here */
  constructor(options: CtlplaneMetricsOptions = {}) {
    const o = parseOrThrow(schema, options, 'CtlplaneMetrics options');
    this.registry = options.registry ?? new Registry();
    this.#families = new Families(this.registry, o.prefix);
    this.#buckets = o.latencyBuckets;
    if (o.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: o.prefix });
  }

  /** The content type of {@link CtlplaneMetrics.metrics}' text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric in the registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Count a store's appends, transitions by target status (`store_transitions_total{status}`),
   * claims and retries. `name` labels the series (default: the store's backend name).
   */
  observeStore<M extends EventTypeMap>(store: EventStore<M>, name = 'events'): () => void {
    return this.#keep(observeStore(this.#families, store, name));
  }

  /** Count Harpoon's batches and refusals, its relay's publishes, and outbox lag (seconds and changes). */
  observeHarpoon<M extends EventTypeMap>(harpoon: Harpoon<M>): () => void {
    return this.#keep(observeHarpoon(this.#families, harpoon));
  }

  /** Count a stand-alone outbox relay's publishes and lag (a Harpoon's relay is covered by `observeHarpoon`). */
  observeRelay(relay: OutboxRelay): () => void {
    return this.#keep(observeRelay(this.#families, relay));
  }

  /** Count placements, placement latency, retries, failures and conflicts of a scheduler. */
  observeScheduler<M extends EventTypeMap>(scheduler: Scheduler<M>): () => void {
    return this.#keep(observeScheduler(this.#families, scheduler, this.#buckets));
  }

  /** Agents connected, connections, deliveries, acknowledgements and database queries of a router. */
  observeRouter(router: EventRouter): () => void {
    return this.#keep(observeRouter(this.#families, router));
  }

  /** Publishes, redeliveries, dead letters and the broker connection of a bus. */
  observeBus(bus: MessageBus): () => void {
    return this.#keep(observeBus(this.#families, bus));
  }

  /**
   * Report the database connections a component holds (`db_connections{component}`), read at each
   * scrape, e.g. `() => driver.connections()` of a MySQL backend. Sources with one name are summed.
   */
  trackConnections(component: string, count: () => number | Promise<number>): () => void {
    const gauge = this.#families.sampled(
      'gauge',
      'db_connections',
      'Database connections held, by component.',
      ['component'],
    );
    return this.#keep(gauge.add({ component }, count));
  }

  /** Stop observing every component (the metrics keep their last values). */
  close(): void {
    for (const r of [...this.#removers]) r();
  }

  #keep(remove: () => void): () => void {
    const once = (): void => {
      if (this.#removers.delete(once)) remove();
    };
    this.#removers.add(once);
    return once;
  }
}
