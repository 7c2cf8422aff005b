/**
 * Group commit: many callers' single requests coalesced into one backend call, under a bounded
 * batch size and linger time, with a bounded queue that answers `BusyError` when full.
 *
 * @module
 */
import { BusyError, ClosedError } from '../errors.js';

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (o: O) => void;
  readonly reject: (e: unknown) => void;
}

/** Options of a {@link Batcher}. */
export interface BatcherOptions<I, O> {
  /** What the batcher is called in errors. */
  name: string;
  /** Most items per backend call. */
  maxBatch: number;
  /** How long the first item of a batch waits for company, in ms. */
  lingerMs: number;
  /** Most items queued or in flight; beyond it `submit` fails with `BusyError`. */
  maxPending: number;
  /** Backend calls in flight at once. */
  concurrency: number;
  /** Runs one batch; returns one result per item (an Error result rejects that item only). */
  run: (items: readonly I[]) => Promise<readonly (O | Error)[]>;
}

/** @internal Coalesces submitted items into batches. */
export class Batcher<I, O> {
  readonly #o: BatcherOptions<I, O>;
  #queue: Pending<I, O>[] = [];
  #inFlight = 0;
  #pending = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #batches = 0;
  #idle: (() => void)[] = [];

  constructor(options: BatcherOptions<I, O>) {
    this.#o = options;
  }

  /** Items queued or in flight. */
  get pending(): number {
    return this.#pending;
  }

  /** Backend calls made so far. */
  get batches(): number {
    return this.#batches;
  }

  /** Queue one item; resolves with its result once its batch ran. */
  submit(item: I): Promise<O> {
    if (this.#closed) return Promise.reject(new ClosedError(this.#o.name));
    if (this.#pending >= this.#o.maxPending) {
      return Promise.reject(
        new BusyError(`${this.#o.name}: ${this.#pending} requests pending (limit ${this.#o.maxPending})`, 50),
      );
    }
    this.#pending++;
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length >= this.#o.maxBatch) this.#drain();
      else this.#timer ??= setTimeout(() => this.#drain(), this.#o.lingerMs);
    });
  }

  /** Stop accepting items and wait for everything queued to run. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#drain();
    if (this.#pending > 0) await new Promise<void>((r) => this.#idle.push(r));
  }

  #drain(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#queue.length > 0 && this.#inFlight < this.#o.concurrency) {
      const batch = this.#queue.splice(0, this.#o.maxBatch);
      this.#inFlight++;
      this.#batches++;
      void this.#runBatch(batch);
    }
    // Whatever could not start waits for a slot; the next completion drains again.
  }

  async #runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await this.#o.run(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else p.resolve(r as O);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.#inFlight--;
      this.#pending -= batch.length;
      if (this.#queue.length > 0) {
        if (this.#queue.length >= this.#o.maxBatch || this.#closed) this.#drain();
        else this.#timer ??= setTimeout(() => this.#drain(), this.#o.lingerMs);
      }
      if (this.#pending === 0) for (const r of this.#idle.splice(0)) r();
    }
  }
}
