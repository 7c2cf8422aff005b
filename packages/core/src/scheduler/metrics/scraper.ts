/**
 * The built-in scraper: reads each server's Prometheus text endpoint over HTTP, a bounded number at
 * a time (p-queue), each request with its own timeout and size limit, and keeps the latest sample.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import { z } from 'zod';
import { deadline } from '../../deadline.js';
import { type Logger, noopLogger } from '../../logger.js';
import { parseOrThrow } from '../../validation.js';
import { parsePrometheusText } from './prometheus-text.js';
import type { MetricsSample, MetricsSource } from './source.js';

/** One server to scrape. */
export interface ScrapeTarget {
  /** The server id (as in the fleet). */
  readonly serverId: string;
  /** Its metrics endpoint, e.g. `http://10.0.0.7:9100/metrics`. */
  readonly url: string;
}

/** What one scrape round did. */
export interface ScrapeRound {
  /** Targets scraped successfully. */
  readonly ok: number;
  /** Targets that failed (timeout, HTTP error, too large, unreachable). */
  readonly failed: number;
  /** Wall time of the round. */
  readonly durationMs: number;
}

/** Events a {@link PrometheusScraper} emits. */
export interface ScraperEvents {
  /** A round finished. */
  'metrics:scraped': (e: ScrapeRound) => void;
  /** One target failed; its last sample is kept and ages towards staleness. */
  'metrics:scrape:failed': (e: { serverId: string; url: string; error: Error }) => void;
}

/** Options of {@link PrometheusScraper}. */
export interface PrometheusScraperOptions {
  /** The servers to scrape, asked again every round. */
  targets: () => readonly ScrapeTarget[] | Promise<readonly ScrapeTarget[]>;
  /** Time between the starts of two rounds (default 10,000 ms). */
  intervalMs?: number;
  /** Timeout of one request, connect to last byte (default 2,000 ms). */
  timeoutMs?: number;
  /** Requests in flight at once (default 32). */
  concurrency?: number;
  /** Largest accepted response body (default 1 MiB). */
  maxBytes?: number;
  /** Metric names to keep (default all). Keep this small on big exporters. */
  metrics?: readonly string[];
  /** Logger (default: no-op). */
  logger?: Logger;
}

const schema = z
  .object({
    intervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
    timeoutMs: z.number().int().min(1).max(60_000).default(2_000),
    concurrency: z.number().int().min(1).max(1_024).default(32),
    maxBytes: z
      .number()
      .int()
      .min(1_024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    metrics: z
      .array(z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/))
      .readonly()
      .optional(),
  })
  .strict();

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new Error(`body of ${declared} bytes exceeds ${maxBytes}`);
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Scrapes Prometheus text endpoints into a {@link MetricsSource}.
 *
 * @example
 * ```ts
 * const scraper = new PrometheusScraper({
 *   targets: async () => (await fleet.list()).map((s) => ({ serverId: s.id, url: `http://${s.id}:9100/metrics` })),
 *   metrics: ['node_load1'],
 * });
 * scraper.start();
 * ```
 */
export class PrometheusScraper extends EventEmitter<ScraperEvents> implements MetricsSource {
  /** Source name. */
  readonly name = 'prometheus';
  readonly #targets: PrometheusScraperOptions['targets'];
  readonly #o: z.output<typeof schema>;
  readonly #keep: ((name: string) => boolean) | undefined;
  readonly #queue: PQueue;
  readonly #log: Logger;
  readonly #samples = new Map<string, MetricsSample>();
  readonly #listeners = new Set<(ids: readonly string[]) => void>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<ScrapeRound> | null = null;

  /** @param options - targets and limits; validated here */
  constructor(options: PrometheusScraperOptions) {
    super();
    const { targets, logger, ...rest } = options;
    if (typeof targets !== 'function') throw new TypeError('PrometheusScraper: targets must be a function');
    this.#targets = targets;
    this.#o = Object.freeze(parseOrThrow(schema, rest, 'PrometheusScraper options'));
    const names = this.#o.metrics ? new Set(this.#o.metrics) : null;
    this.#keep = names ? (n) => names.has(n) : undefined;
    this.#queue = new PQueue({ concurrency: this.#o.concurrency });
    this.#log = (logger ?? noopLogger).child('metrics:prometheus');
  }

  get(serverId: string): MetricsSample | undefined {
    return this.#samples.get(serverId);
  }

  subscribe(listener: (serverIds: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Scrape every target once (a round already running is joined, not doubled). */
  scrapeOnce(): Promise<ScrapeRound> {
    this.#round ??= this.#scrapeAll().finally(() => {
      this.#round = null;
    });
    return this.#round;
  }

  /** Scrape now and then every `intervalMs` until `close()`. */
  start(): void {
    if (this.#timer || this.#abort.signal.aborted) return;
    const tick = (): void => {
      this.scrapeOnce()
        .catch((err: unknown) => this.#log.warn('scrape round failed', { error: String(err) }))
        .finally(() => {
          if (this.#abort.signal.aborted) return;
          this.#timer = setTimeout(tick, this.#o.intervalMs);
          this.#timer.unref();
        });
    };
    tick();
  }

  /** Stop scraping and abort requests in flight. Samples stay readable. */
  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#queue.clear();
    await this.#round?.catch(() => {});
  }

  async #scrapeAll(): Promise<ScrapeRound> {
    const started = Date.now();
    const targets = await this.#targets();
    let ok = 0;
    const changed: string[] = [];
    await Promise.all(
      targets.map((t) =>
        this.#queue.add(async () => {
          if (this.#abort.signal.aborted) return;
          try {
            const values = await this.#scrapeOne(t.url);
            this.#samples.set(t.serverId, Object.freeze({ values: Object.freeze(values), at: Date.now() }));
            changed.push(t.serverId);
            ok++;
          } catch (err) {
            const error = err instanceof Error ? err : new Error(String(err));
            this.#log.debug('scrape failed', { serverId: t.serverId, error: error.message });
            this.emit('metrics:scrape:failed', { serverId: t.serverId, url: t.url, error });
          }
        }),
      ),
    );
    if (changed.length > 0) for (const l of this.#listeners) l(changed);
    const round = { ok, failed: targets.length - ok, durationMs: Date.now() - started };
    this.emit('metrics:scraped', round);
    return round;
  }

  async #scrapeOne(url: string): Promise<Record<string, number>> {
    // A timer we clear ourselves: AbortSignal.any() can lose its timeout to GC on Node 20.
    const { signal, clear } = deadline(this.#o.timeoutMs, this.#abort.signal);
    try {
      const res = await fetch(url, { signal, headers: { accept: 'text/plain;version=0.0.4' } });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}`);
      }
      const text = await readCapped(res, this.#o.maxBytes);
      return parsePrometheusText(text, this.#keep).values;
    } finally {
      clear();
    }
  }
}
