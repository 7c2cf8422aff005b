/**
 * Every database query the router issues goes through one gate: at most `concurrency` at a time
 * (so the router never holds more connections than that), a bounded queue, and a count per kind.
 *
 * @internal
 * @module
 */
import PQueue from 'p-queue';
import { BusyError } from '../errors.js';
import type { RouterQueryKind } from './inputs/input.js';

/** @internal Queries issued, by kind. */
export type QueryCounts = Record<RouterQueryKind, number>;

/** @internal */
export class QueryGate {
  readonly #queue: PQueue;
  readonly #maxQueued: number;
  readonly counts: QueryCounts = { readFeed: 0, head: 0, query: 0, get: 0, transition: 0 };

  constructor(concurrency: number, maxQueued: number) {
    this.#queue = new PQueue({ concurrency });
    this.#maxQueued = maxQueued;
  }

  /** Queries waiting for a slot. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Total queries issued. */
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /**
   * Run a query when a slot is free. Feed reads and acknowledgements go first; resync reads wait.
   *
   * @throws BusyError when `optional` and the queue is full
   */
  run<T>(kind: RouterQueryKind, fn: () => Promise<T>, optional = false): Promise<T> {
    if (optional && this.#queue.size >= this.#maxQueued) {
      return Promise.reject(new BusyError(`router query queue is full (${this.#maxQueued})`, 1_000));
    }
    const priority = kind === 'readFeed' || kind === 'transition' ? 1 : 0;
    return this.#queue.add(
      () => {
        this.counts[kind]++;
        return fn();
      },
      { priority },
    );
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    return this.#queue.onIdle();
  }
}
