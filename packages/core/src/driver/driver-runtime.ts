/**
 * What every port wrapper ({@link EventStore}, {@link Fleet}) puts around its driver, written once:
 * the "already closed" check, an idempotent close, batch bounds, bounded retries of transient
 * failures, and the mapping of anything that is not a ctlplane error to `UnavailableError`.
 * Model: Kysely's `runtime-driver.ts`. A driver stays a plain storage backend; the wrapper owns
 * validation, typing and events.
 *
 * @internal
 * @module
 */
import PQueue from 'p-queue';
import { BusyError, ClosedError, isCtlplaneError, UnavailableError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { withRetry } from '../retry.js';

/** @internal Options of a {@link DriverRuntime}. */
export interface DriverRuntimeOptions {
  /** Retries of transient failures per call. */
  readonly retries: number;
  /** Where retries are logged (already scoped by the wrapper). */
  readonly log: Logger;
  /** Told of every retry after it is logged, e.g. to emit an event. */
  readonly onRetry?: (operation: string, attempt: number, error: Error) => void;
  /** Write calls in flight at once (the driver's `writeConcurrency`); more wait in order. */
  readonly writeConcurrency?: number | undefined;
  /** Write calls waiting for their turn at most; one more is refused with `BusyError`. */
  readonly maxQueuedWrites?: number | undefined;
}

/** @internal The delay a write refused for a full queue suggests before retrying. */
export const QUEUED_WRITES_RETRY_MS = 100;

/** @internal The shared open/close/retry behaviour around one driver. */
export class DriverRuntime {
  readonly #what: string;
  readonly #name: string;
  readonly #o: DriverRuntimeOptions;
  readonly #writes: PQueue | null;
  #closing: Promise<void> | null = null;

  /**
   * @param what - the wrapper, for `ClosedError` messages, e.g. `EventStore`
   * @param name - the driver's short name, e.g. `mysql`
   */
  constructor(what: string, name: string, options: DriverRuntimeOptions) {
    this.#what = what;
    this.#name = name;
    this.#o = options;
    const n = options.writeConcurrency;
    this.#writes = n !== undefined && n > 0 ? new PQueue({ concurrency: n }) : null;
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** @throws ClosedError once `close` was called */
  assertOpen(): void {
    if (this.#closing) throw new ClosedError(`${this.#what} (${this.#name})`);
  }

  /**
   * Run one driver call. A transient `UnavailableError` is retried with backoff while the wrapper
   * is open (a close ends the retries at once); an error that is not a ctlplane error becomes an
   * `UnavailableError` naming the driver and the operation, with the original as its `cause`.
   */
  run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const { retries, log, onRetry } = this.#o;
    return withRetry(fn, {
      retries,
      // By code, not instanceof: a driver built against another copy of @ctlplane/core throws
      // errors of that copy's classes.
      isRetryable: (err) =>
        isCtlplaneError(err, 'UNAVAILABLE') && (err as UnavailableError).transient === true && !this.#closing,
      onRetry: (err, attempt) => {
        log.warn('retrying transient failure', { operation, attempt, error: (err as Error).message });
        onRetry?.(operation, attempt, err as Error);
      },
    }).catch((err: unknown) => {
      if (isCtlplaneError(err)) throw err;
      throw new UnavailableError(`${this.#name} ${operation} failed: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
    });
  }

  /**
   * Run one write call as {@link DriverRuntime.run} does, each attempt waiting its turn when the
   * driver limits its concurrent writes.
   *
   * @throws BusyError when `maxQueuedWrites` writes are already waiting for their turn
   */
  write<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const writes = this.#writes;
    if (!writes) return this.run(operation, fn);
    // Bounded, so a store slower than its callers pushes back instead of queueing without end
    // (each queued write holds its inputs in memory). Checked once per call: a retry of a call
    // already let in queues again without a check, so the queue can exceed the bound by at most
    // the writes in flight.
    const max = this.#o.maxQueuedWrites;
    if (max !== undefined && writes.size >= max) {
      return Promise.reject(
        new BusyError(
          `${this.#what} (${this.#name}) ${operation}: ${writes.size} writes are waiting for their turn, the limit (maxQueuedWrites ${max})`,
          QUEUED_WRITES_RETRY_MS,
        ),
      );
    }
    return this.run(operation, () => writes.add(fn));
  }

  /** Close once: `fn` runs on the first call, and every call gets its promise. */
  close(fn: () => Promise<void>): Promise<void> {
    this.#closing ??= fn();
    return this.#closing;
  }
}

/** @internal Bounds of a batch argument. */
export interface BatchBounds {
  /** Fewest items (0 or 1). */
  readonly min: number;
  /** Most items. */
  readonly max: number;
  /** What the items are, in the message: `events`, `items`. */
  readonly noun: string;
}

/**
 * @internal Refuse anything but an array of `min` to `max` items, before one item is looked at.
 *
 * @throws ValidationError naming `path`
 */
export function checkBatch(items: unknown, path: string, bounds: BatchBounds): void {
  if (Array.isArray(items) && items.length >= bounds.min && items.length <= bounds.max) return;
  const range = bounds.min > 0 ? `${bounds.min} to ${bounds.max}` : `at most ${bounds.max}`;
  const message = `must be an array of ${range} ${bounds.noun}`;
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
}
