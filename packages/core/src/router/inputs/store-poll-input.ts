/**
 * The 2014 design: one small query per cycle reads the region's changes from the store's feed,
 * whatever the number of agents.
 *
 * @module
 */
import { z } from 'zod';
import { backoffDelay, sleep } from '../../retry.js';
import { parseOrThrow } from '../../validation.js';
import type { RouterStore } from '../router-store.js';
import type { RouterInput, RouterInputSink } from './input.js';

/** Options of {@link StorePollInput}. */
export interface StorePollInputOptions {
  /** The store whose changes feed is read. */
  store: RouterStore;
  /** Time between the starts of two reads (default 1,000 ms). Delivery latency is at most this plus one read. */
  pollMs?: number;
  /** Events per read (default 1,000); a full page is followed at once by the next read. */
  limit?: number;
}

const schema = z
  .object({
    store: z.custom((v) => typeof v === 'object' && v !== null && 'readFeed' in v, 'must be an EventStore'),
    pollMs: z.number().int().min(1).max(60_000).default(1_000),
    limit: z.number().int().min(1).max(10_000).default(1_000),
  })
  .strict();

/**
 * Polls the store's changes feed for the router's region: one `readFeed` per `pollMs`, never one
 * per agent. Transient failures are reported and retried with backoff.
 *
 * @example
 * ```ts
 * const router = new EventRouter({ store, region: 'nyc1', auth, input: new StorePollInput({ store, pollMs: 500 }) });
 * ```
 */
export class StorePollInput implements RouterInput {
  /** Input name. */
  readonly kind = 'poll';
  readonly #opts: z.output<typeof schema> & StorePollInputOptions;
  #abort: AbortController | null = null;
  #loop: Promise<void> | null = null;

  /** @param options - the store and the poll interval; validated here */
  constructor(options: StorePollInputOptions) {
    this.#opts = { ...parseOrThrow(schema, options, 'StorePollInput options'), store: options.store };
  }

  /** The poll interval in ms. */
  get pollMs(): number {
    return this.#opts.pollMs;
  }

  async start(sink: RouterInputSink, from: number): Promise<void> {
    await this.stop();
    const abort = new AbortController();
    this.#abort = abort;
    this.#loop = this.#run(sink, from, abort.signal);
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#abort = null;
    this.#loop = null;
  }

  async #run(sink: RouterInputSink, from: number, signal: AbortSignal): Promise<void> {
    const { store, pollMs, limit } = this.#opts;
    let cursor = from;
    let failures = 0;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        const page = await sink.query('readFeed', () =>
          store.readFeed(cursor, { region: sink.region, limit }),
        );
        failures = 0;
        if (signal.aborted) return;
        cursor = page.cursor;
        sink.deliver(page.events, page.cursor);
        if (page.events.length === limit || page.more === true) continue;
      } catch (err) {
        if (signal.aborted) return;
        sink.error(err);
        await sleep(backoffDelay(failures++, { initialMs: pollMs, maxMs: 30_000 }), signal);
        continue;
      }
      await sleep(Math.max(0, started + pollMs - Date.now()), signal);
    }
  }
}
