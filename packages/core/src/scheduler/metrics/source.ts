/**
 * The `MetricsSource` port: live metrics per server, read synchronously on the scheduling hot path
 * and refreshed in the background (scraped or pushed).
 *
 * @module
 */

/** The latest metrics of one server. */
export interface MetricsSample {
  /** Metric values by name, e.g. `{ node_load1: 3.2 }`. */
  readonly values: Readonly<Record<string, number>>;
  /** When the values were taken (epoch ms). */
  readonly at: number;
}

/**
 * Where the scheduler reads live metrics. `get` must be cheap and synchronous (it runs for every
 * candidate server); fetching happens elsewhere, and `subscribe` tells the scheduler which servers'
 * metrics changed so it can re-rank them.
 */
export interface MetricsSource {
  /** Short name for logs. */
  readonly name: string;
  /** The latest sample of a server, or undefined when there is none. */
  get(serverId: string): MetricsSample | undefined;
  /** Be told which servers got new samples; returns an unsubscribe function. */
  subscribe(listener: (serverIds: readonly string[]) => void): () => void;
}

/** How the scheduler treats a server whose metrics are older than `maxAgeMs` or missing. */
export interface StalenessPolicy {
  /** Samples older than this are stale (default 30,000 ms). */
  maxAgeMs: number;
  /** `exclude`: the server is filtered out; `penalise`: metric-based strategies score it 0. */
  policy: 'exclude' | 'penalise';
}

/**
 * Merge several sources: `get` returns the newest sample any of them has (e.g. pushed heartbeats
 * plus a scraper as fallback).
 */
export function combineMetricsSources(...sources: readonly MetricsSource[]): MetricsSource {
  return {
    name: sources.map((s) => s.name).join('+'),
    get(serverId) {
      let best: MetricsSample | undefined;
      for (const s of sources) {
        const m = s.get(serverId);
        if (m && (!best || m.at > best.at)) best = m;
      }
      return best;
    },
    subscribe(listener) {
      const offs = sources.map((s) => s.subscribe(listener));
      return () => {
        for (const off of offs) off();
      };
    },
  };
}
