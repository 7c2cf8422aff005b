/**
 * Lazily created metric families on one registry: each observer creates what it needs on first
 * use, so a process that runs only a router exports only router metrics.
 *
 * @internal
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

interface Source<L extends string> {
  readonly labels: Partial<Record<L, string>>;
  read(): Promise<number>;
}

/** @internal A family read from its sources at scrape time. */
export interface Sampled<L extends string> {
  /** Add a source; returns its removal. */
  add(labels: Partial<Record<L, string>>, read: () => number | Promise<number>): () => void;
}

/** @internal Creates each family once per name on one registry. */
export class Families {
  readonly #registry: Registry;
  readonly #prefix: string;
  readonly #made = new Map<string, unknown>();

  constructor(registry: Registry, prefix: string) {
    this.#registry = registry;
    this.#prefix = prefix;
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.#once(name, () => new Counter({ name: this.#name(name), help, labelNames, registers: [] }));
  }

  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (this: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return this.#once(
      name,
      () =>
        new Gauge({
          name: this.#name(name),
          help,
          labelNames,
          registers: [],
          ...(collect ? { collect } : {}),
        }),
    );
  }

  histogram<L extends string>(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly L[] = [],
  ): Histogram<L> {
    return this.#once(
      name,
      () => new Histogram({ name: this.#name(name), help, labelNames, buckets: [...buckets], registers: [] }),
    );
  }

  /**
   * A family whose values are read from components when scraped: each source adds its reading to
   * the series of its labels (sources with equal labels are summed). `counter` for totals that only
   * grow while a source lives.
   */
  sampled<L extends string>(
    kind: 'gauge' | 'counter',
    name: string,
    help: string,
    labelNames: readonly L[] = [],
  ): Sampled<L> {
    const held = this.#made.get(`sampled:${name}`);
    if (held) return held as Sampled<L>;
    const sources = new Set<Source<L>>();
    async function collect(this: Gauge<L> | Counter<L>): Promise<void> {
      const readings = await Promise.all(
        [...sources].map(async (s) => ({ labels: s.labels, value: await s.read().catch(() => Number.NaN) })),
      );
      this.reset();
      for (const { labels, value } of readings) {
        if (!Number.isFinite(value)) continue;
        if (this instanceof Gauge) this.inc(labels, value);
        else if (value >= 0) this.inc(labels, value);
      }
    }
    const config = { name: this.#name(name), help, labelNames, registers: [], collect };
    const metric = kind === 'gauge' ? new Gauge<L>(config) : new Counter<L>(config);
    this.#registry.registerMetric(metric);
    const sampled: Sampled<L> = {
      add: (labels, read) => {
        const source: Source<L> = { labels, read: async () => read() };
        sources.add(source);
        return () => sources.delete(source);
      },
    };
    this.#made.set(`sampled:${name}`, sampled);
    return sampled;
  }

  #name(name: string): string {
    return `${this.#prefix}${name}`;
  }

  #once<T extends Counter<string> | Gauge<string> | Histogram<string>>(name: string, make: () => T): T {
    const held = this.#made.get(name);
    if (held) return held as T;
    const metric = make();
    this.#registry.registerMetric(metric);
    this.#made.set(name, metric);
    return metric;
  }
}

interface LooseEmitter {
  on(event: string, fn: (...args: never[]) => void): unknown;
  off(event: string, fn: (...args: never[]) => void): unknown;
}

/**
 * @internal Subscribe a map of typed handlers to a component's events (`E` is its event map, e.g.
 * `EventStoreEvents`); returns one function that removes them all.
 */
export function subscribe<E>(emitter: object, handlers: { [K in keyof E]?: E[K] }): () => void {
  const target = emitter as LooseEmitter;
  const entries = Object.entries(handlers) as [string, (...args: never[]) => void][];
  for (const [event, fn] of entries) target.on(event, fn);
  return () => {
    for (const [event, fn] of entries) target.off(event, fn);
  };
}
