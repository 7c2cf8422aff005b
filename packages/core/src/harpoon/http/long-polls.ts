/**
 * Feed long-polls, waiting together. Each used to run its own follower polling the database every
 * 100 ms, under an `AbortSignal.any([…, AbortSignal.timeout()])` that Node 20 can garbage-collect,
 * so some never ended (2,000 long-polls: 6,014 SELECT/s). Now:
 *
 * - each wait ends at its deadline, a plain ref'd timer cleared when the wait ends;
 * - at most `max` wait at once (one more: `BusyError`, 429);
 * - one `head()` read per `pollMs` serves all of them (other processes' commits), and this
 *   process's commits wake them at once; a waiter reads its feed only when the head moved past
 *   what it last saw, at most `READ_CONCURRENCY` (2) reads at a time.
 *
 * @module
 */
import PQueue from 'p-queue';
import { BusyError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Harpoon } from '../harpoon.js';

/**
 * @internal Feed reads of woken long-polls in flight at once. Writes are limited by the store
 * (`writeConcurrency`: 3 on the MySQL driver's default pool of 4, which leaves one connection for
 * reads); long-polls share the rest of the pool with every other read (gets, queries, the relay's
 * feed), so a round of thousands of wake-ups reads two at a time instead of filling the pool's
 * queue ahead of them.
 */
export const READ_CONCURRENCY = 2;

/** @internal One waiting long-poll's part. */
export interface WaitRequest<T> {
  /** A head already seen when the caller's own first read started (see {@link LongPolls.seenHead}). */
  readonly seenHead: number;
  readonly waitMs: number;
  /** Ends the wait early (the client went away). */
  readonly signal: AbortSignal;
  /** Read the feed: a result ends the wait, null waits on. */
  readonly read: () => Promise<T | null>;
}

interface Waiter {
  seen: number;
  reading: boolean;
  readonly read: () => Promise<unknown>;
  readonly end: (outcome: { value: unknown } | { error: unknown }) => void;
}

/** @internal */
export class LongPolls {
  readonly #harpoon: Harpoon;
  readonly #max: number;
  readonly #pollMs: number;
  readonly #log: Logger;
  readonly #waiters = new Set<Waiter>();
  readonly #reads = new PQueue({ concurrency: READ_CONCURRENCY });
  #head = 0;
  #round: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(harpoon: Harpoon, o: { max: number; pollMs: number; log: Logger }) {
    this.#harpoon = harpoon;
    this.#max = o.max;
    this.#pollMs = o.pollMs;
    this.#log = o.log;
  }

  /** Long-polls waiting now. */
  get size(): number {
    return this.#waiters.size;
  }

  /**
   * The last head read. Taken before a caller's first feed read, it is a safe `seenHead`: every
   * change at or below it was visible to that read, and any later one moves the head past it.
   */
  get seenHead(): number {
    return this.#head;
  }

  /** Wait until `read` finds something, `waitMs` passes (null) or `signal` aborts (null). */
  wait<T>(w: WaitRequest<T>): Promise<T | null> {
    if (this.#waiters.size >= this.#max)
      return Promise.reject(new BusyError(`too many feed long-polls waiting (${this.#max})`, 1_000));
    if (w.signal.aborted) return Promise.resolve(null);
    return new Promise<T | null>((resolve, reject) => {
      const timer = setTimeout(() => waiter.end({ value: null }), w.waitMs);
      const onAbort = (): void => waiter.end({ value: null });
      const waiter: Waiter = {
        seen: w.seenHead,
        reading: false,
        read: w.read,
        end: (outcome) => {
          if (!this.#waiters.delete(waiter)) return;
          clearTimeout(timer);
          w.signal.removeEventListener('abort', onAbort);
          if (this.#waiters.size === 0) this.#idle();
          if ('error' in outcome) reject(outcome.error);
          else resolve(outcome.value as T | null);
        },
      };
      w.signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
      if (this.#waiters.size === 1) this.#busy();
    });
  }

  /** End every wait (empty answers) and stop polling. */
  close(): void {
    for (const w of [...this.#waiters]) w.end({ value: null });
  }

  #busy(): void {
    this.#unsubscribe = this.#harpoon.onCommit(() => this.#wake());
    this.#timer = setInterval(() => this.#wake(), this.#pollMs);
    // The waiters' own deadline timers keep the process alive; this one need not.
    this.#timer.unref();
  }

  #idle(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Run a round now, or once more after the one running: wake-ups coalesce. */
  #wake(): void {
    if (this.#round) {
      this.#again = true;
      return;
    }
    this.#round = this.#rounds().finally(() => {
      this.#round = null;
    });
  }

  async #rounds(): Promise<void> {
    do {
      this.#again = false;
      let head: number;
      try {
        head = await this.#harpoon.head();
      } catch (err) {
        this.#log.debug('long-poll head read failed', { error: (err as Error).message });
        return;
      }
      this.#head = Math.max(this.#head, head);
      const due = [...this.#waiters].filter((w) => w.seen < head && !w.reading);
      await Promise.all(due.map((w) => this.#reads.add(() => this.#check(w, head))));
    } while (this.#again && this.#waiters.size > 0);
  }

  async #check(w: Waiter, head: number): Promise<void> {
    if (!this.#waiters.has(w)) return;
    w.reading = true;
    try {
      const found = await w.read();
      w.seen = head;
      if (found !== null) w.end({ value: found });
    } catch (err) {
      w.end({ error: err });
    } finally {
      w.reading = false;
    }
  }
}
