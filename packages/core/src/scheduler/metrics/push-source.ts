/**
 * The push source: agents' heartbeats report their server's metrics; the scheduler reads the
 * latest report. Bounded: beyond `maxServers` the server reported least recently is forgotten.
 *
 * @module
 */
import { z } from 'zod';
import { nameSchema, parseOrThrow } from '../../validation.js';
import type { MetricsSample, MetricsSource } from './source.js';

const valuesSchema = z
  .record(z.string().min(1).max(200), z.number().refine(Number.isFinite, 'must be finite'))
  .refine((v) => Object.keys(v).length <= 256, 'must have at most 256 metrics');
const optionsSchema = z.object({ maxServers: z.number().int().positive().default(100_000) }).strict();

/** Options of {@link PushMetricsSource}. */
export interface PushMetricsSourceOptions {
  /** Most servers remembered (default 100,000); the least recently reported is dropped first. */
  maxServers?: number;
}

/**
 * Metrics pushed by agents (for example with their heartbeats).
 *
 * @example
 * ```ts
 * const metrics = new PushMetricsSource();
 * metrics.report('hv1', { node_load1: 0.7 });
 * ```
 */
export class PushMetricsSource implements MetricsSource {
  /** Source name. */
  readonly name = 'push';
  readonly #samples = new Map<string, MetricsSample>();
  readonly #listeners = new Set<(ids: readonly string[]) => void>();
  readonly #max: number;

  /** @param options - bounds; validated here */
  constructor(options: PushMetricsSourceOptions = {}) {
    this.#max = parseOrThrow(optionsSchema, options, 'PushMetricsSource options').maxServers;
  }

  /** Servers with a sample. */
  get size(): number {
    return this.#samples.size;
  }

  /**
   * Record a server's metrics, taken at `at` (default now). An older report than the one held is
   * ignored, so reordered heartbeats never roll metrics back.
   *
   * @throws ValidationError for a bad server id or non-finite values
   */
  report(serverId: string, metrics: Readonly<Record<string, number>>, at: Date | number = Date.now()): void {
    parseOrThrow(nameSchema, serverId, 'serverId');
    const values = parseOrThrow(valuesSchema, metrics, 'metrics');
    const t = typeof at === 'number' ? at : at.getTime();
    const held = this.#samples.get(serverId);
    if (held && held.at > t) return;
    this.#samples.delete(serverId);
    this.#samples.set(serverId, Object.freeze({ values: Object.freeze(values), at: t }));
    if (this.#samples.size > this.#max) this.#samples.delete(this.#samples.keys().next().value as string);
    for (const l of this.#listeners) l([serverId]);
  }

  /** Forget a server's metrics (e.g. when its agent disconnects for good). */
  forget(serverId: string): void {
    this.#samples.delete(serverId);
  }

  get(serverId: string): MetricsSample | undefined {
    return this.#samples.get(serverId);
  }

  subscribe(listener: (serverIds: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
