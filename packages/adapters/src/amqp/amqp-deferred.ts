/**
 * A promise with its resolve and reject, that never counts as an unhandled rejection, and the gate
 * `AmqpBus.ready()` waits on.
 *
 * @module
 */
import { UnavailableError } from '@ctlplane/core';

/** @internal */
export class Deferred {
  /** Settles once. */
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (err: Error) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody may be waiting when it rejects; callers of `promise` still see the rejection.
    this.promise.catch(() => {});
  }

  /** Fulfil (ignored once settled). */
  resolve(): void {
    this.#resolve();
  }

  /** Reject (ignored once settled). */
  reject(err: Error): void {
    this.#reject(err);
  }
}

/**
 * @internal What `ready()` waits on: the first connection, a first failure that is final, or the
 * caller's time limit. Each `wait` has its own timer, cleared when the gate settles.
 */
export class ReadyGate {
  #deferred = new Deferred();
  #connected = false;
  #everConnected = false;
  #lastError: Error | null = null;
  #attempts = 0;

  /** True once a connection was set up: until then no publish can have reached the broker. */
  get everConnected(): boolean {
    return this.#everConnected;
  }

  /**
   * Resolve once connected; reject with the gate's failure, or after `timeoutMs` with a transient
   * UnavailableError naming the last failed attempt. The timer holds the process open: a caller
   * awaiting `ready()` is waiting on purpose.
   */
  wait(timeoutMs: number): Promise<void> {
    const gate = this.#deferred.promise;
    if (this.#connected) return gate;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.#timeoutError(timeoutMs)), timeoutMs);
      gate.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /** Connected (and set up). */
  open(): void {
    this.#connected = true;
    this.#everConnected = true;
    this.#lastError = null;
    this.#deferred.resolve();
  }

  /**
   * A connection attempt failed. When retrying cannot help (`permanent`) and the bus never
   * connected, fail the current waiters; later callers wait afresh.
   */
  attemptFailed(err: Error, permanent: boolean): void {
    this.#attempts++;
    this.#lastError = err;
    if (!permanent || this.#connected) return;
    this.#deferred.reject(err);
    this.#deferred = new Deferred();
  }

  /** The bus closed: fail every waiter, now and later. */
  close(err: Error): void {
    this.#connected = true;
    this.#deferred.reject(err);
  }

  #timeoutError(ms: number): UnavailableError {
    const last = this.#lastError;
    return new UnavailableError(
      `AmqpBus: no broker reachable within ${ms} ms (${this.#attempts} attempts failed)` +
        (last ? `; last: ${last.message}` : ''),
      { cause: last, transient: true },
    );
  }
}
