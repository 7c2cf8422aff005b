/**
 * A promise with its resolve and reject, that never counts as an unhandled rejection.
 *
 * @module
 */

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

/** @internal What `ready()` waits on: the first connection, or a first failure that is final. */
export class ReadyGate {
  #deferred = new Deferred();
  #connected = false;

  /** The current promise. */
  get promise(): Promise<void> {
    return this.#deferred.promise;
  }

  /** Connected (and set up). */
  open(): void {
    this.#connected = true;
    this.#deferred.resolve();
  }

  /** A first connection failed for good: fail current waiters; later callers wait afresh. */
  fail(err: Error): void {
    if (this.#connected) return;
    this.#deferred.reject(err);
    this.#deferred = new Deferred();
  }

  /** The bus closed: fail every waiter, now and later. */
  close(err: Error): void {
    this.#connected = true;
    this.#deferred.reject(err);
  }
}
