/**
 * Bounded retry with jittered exponential backoff, used around every adapter call that may hit a
 * transient failure.
 *
 * @module
 */

/** How to back off between attempts. */
export interface BackoffOptions {
  /** First delay in ms (default 10). */
  initialMs?: number;
  /** Largest delay in ms (default 1,000). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
}

/** Delay before retry number `attempt` (0-based): full jitter over an exponential ceiling. */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialMs = 10, maxMs = 1_000, factor = 2 } = opts;
  const ceiling = Math.min(maxMs, initialMs * factor ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Options of {@link sleep}. */
export interface SleepOptions {
  /**
   * Hold the process open while waiting (default true, as `setTimeout` does). `false` for a wait
   * that must not keep a process alive on its own; a component that promises to retry or reconnect
   * must keep the default, or its process exits in silence when the wait is all that is left.
   */
  ref?: boolean;
}

/**
 * Resolve after `ms` milliseconds, or as soon as `signal` aborts (never rejects). The timer holds
 * the process open, as `setTimeout` does, unless `options.ref` is false: a script awaiting a
 * retry loop built on it does not exit half-way (Node would end it with exit code 13, "unsettled
 * top-level await").
 */
export function sleep(ms: number, signal?: AbortSignal, options: SleepOptions = {}): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    if (options.ref === false) timer.unref?.();
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Run `fn`, retrying while `isRetryable(err)` holds, at most `retries` more times.
 * `onRetry` sees every retried error (for logs and counters).
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: BackoffOptions & {
    retries: number;
    isRetryable: (err: unknown) => boolean;
    onRetry?: (err: unknown, attempt: number) => void;
  },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.retries || !opts.isRetryable(err)) throw err;
      opts.onRetry?.(err, attempt + 1);
      await sleep(backoffDelay(attempt, opts));
    }
  }
}
