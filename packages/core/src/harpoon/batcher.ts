/**
 * Group commit: many callers' single requests coalesced into one backend call, under a bounded
 * batch size (in items and, optionally, in weight such as bytes) and linger time, with a bounded
 * queue that answers `BusyError` when full. Harpoon's creates and transitions use it in front of
 * the store, and `HarpoonClient` in front of Harpoon's HTTP API.
 *
 * @module
 */
import { BusyError, ClosedError } from '../errors.js';

interface Pending<I, O> {
  readonly item: I;
  readonly weight: number;
  /** When it was submitted (`performance.now()`). */
  readonly at: number;
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
  /**
   * Most total weight (see `weigh`) per backend call; a batch closes before the item that would
   * pass it, and an item heavier than this alone goes alone. Default: no bound.
   */
  maxBatchWeight?: number;
  /** The weight of one item, e.g. its bytes on the wire (default: 0). */
  weigh?: (item: I) => number;
  /**
   * How long an item may wait for its batch to start, in ms: one still queued by then (behind
   * `concurrency` calls in flight) fails with `expired(waitedMs)` and never runs. Default: no bound.
   */
  maxWaitMs?: number;
  /** The error of an item that waited past `maxWaitMs`. */
  expired?: (waitedMs: number) => Error;
  /** Told of every item that fails, before its caller is (e.g. to count `BusyError`s). */
  failed?: (err: unknown) => void;
  /** Runs one batch; returns one result per item (an Error result rejects that item only). */
  run: (items: readonly I[], batch: BatchInfo) => Promise<readonly (O | Error)[]>;
}

/** What a batch's `run` is told besides its items. */
export interface BatchInfo {
  /**
   * When its oldest item reaches `maxWaitMs` since it was submitted, as a `performance.now()`
   * time (Infinity without `maxWaitMs`): the end of the earliest caller's time budget.
   */
  readonly deadline: number;
}

/** @internal Coalesces submitted items into batches. */
export class Batcher<I, O> {
  readonly #o: BatcherOptions<I, O>;
  #queue: Pending<I, O>[] = [];
  #queuedWeight = 0;
  #inFlight = 0;
  #pending = 0;
  #timer: NodeJS.Timeout | null = null;
  #expiry: NodeJS.Timeout | null = null;
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

  /** Items that can still be submitted before `submit` answers `BusyError`. */
  get room(): number {
    return this.#o.maxPending - this.#pending;
  }

  /** Backend calls made so far. */
  get batches(): number {
    return this.#batches;
  }

  /** Queue one item; resolves with its result once its batch ran. */
  submit(item: I): Promise<O> {
    if (this.#closed) return this.#refuse(new ClosedError(this.#o.name));
    if (this.#pending >= this.#o.maxPending) {
      return this.#refuse(
        new BusyError(`${this.#o.name}: ${this.#pending} requests pending (limit ${this.#o.maxPending})`, 50),
      );
    }
    const weight = this.#o.weigh?.(item) ?? 0;
    this.#pending++;
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, weight, at: performance.now(), resolve, reject });
      this.#queuedWeight += weight;
      if (this.#full()) this.#drain();
      else this.#timer ??= setTimeout(() => this.#drain(), this.#o.lingerMs);
      this.#armExpiry();
    });
  }

  #refuse(err: Error): Promise<never> {
    this.#o.failed?.(err);
    return Promise.reject(err);
  }

  /** Fail one queued item, telling `failed` first. */
  #fail(p: Pending<I, O>, err: unknown): void {
    this.#o.failed?.(err);
    p.reject(err);
  }

  /**
   * One timer for the whole queue, set for its oldest item: items share `maxWaitMs` and leave in
   * order, so the expired ones are always at the front.
   */
  #armExpiry(): void {
    const max = this.#o.maxWaitMs;
    const head = this.#queue[0];
    if (max === undefined || this.#expiry || !head) return;
    this.#expiry = setTimeout(
      () => {
        this.#expiry = null;
        this.#expire();
        this.#armExpiry();
      },
      Math.max(0, head.at + max - performance.now()),
    );
  }

  /** Fail the queued items that waited `maxWaitMs` or more; they never run. */
  #expire(): void {
    const max = this.#o.maxWaitMs;
    if (max === undefined) return;
    const now = performance.now();
    let n = 0;
    while (n < this.#queue.length && now - this.#queue[n]!.at >= max) n++;
    if (n === 0) return;
    const gone = this.#queue.splice(0, n);
    for (const p of gone) {
      this.#queuedWeight -= p.weight;
      this.#fail(p, this.#o.expired?.(now - p.at) ?? new Error(`${this.#o.name}: waited over ${max} ms`));
    }
    this.#settled(n);
  }

  /** A whole batch is queued: waiting longer cannot make it larger. */
  #full(): boolean {
    return (
      this.#queue.length >= this.#o.maxBatch || this.#queuedWeight >= (this.#o.maxBatchWeight ?? Infinity)
    );
  }

  /** The next batch off the queue: at most `maxBatch` items and `maxBatchWeight`, at least one item. */
  #take(): Pending<I, O>[] {
    const max = this.#o.maxBatchWeight ?? Infinity;
    let n = 0;
    let weight = 0;
    while (n < this.#queue.length && n < this.#o.maxBatch) {
      const w = this.#queue[n]!.weight;
      if (n > 0 && weight + w > max) break;
      weight += w;
      n++;
    }
    this.#queuedWeight -= weight;
    return this.#queue.splice(0, n);
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
    this.#expire();
    while (this.#queue.length > 0 && this.#inFlight < this.#o.concurrency) {
      const batch = this.#take();
      this.#inFlight++;
      this.#batches++;
      void this.#runBatch(batch);
    }
    // Whatever could not start waits for a slot; the next completion drains again.
    if (this.#queue.length === 0 && this.#expiry) {
      clearTimeout(this.#expiry);
      this.#expiry = null;
    }
  }

  /** `n` items left the batcher (answered or expired). */
  #settled(n: number): void {
    this.#pending -= n;
    if (this.#pending === 0) for (const r of this.#idle.splice(0)) r();
  }

  async #runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const deadline = batch[0]!.at + (this.#o.maxWaitMs ?? Infinity);
      const results = await this.#o.run(
        batch.map((p) => p.item),
        { deadline },
      );
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) this.#fail(p, r);
        else p.resolve(r as O);
      });
    } catch (err) {
      for (const p of batch) this.#fail(p, err);
    } finally {
      this.#inFlight--;
      if (this.#queue.length > 0) {
        if (this.#full() || this.#closed) this.#drain();
        else this.#timer ??= setTimeout(() => this.#drain(), this.#o.lingerMs);
      }
      this.#settled(batch.length);
    }
  }
}
