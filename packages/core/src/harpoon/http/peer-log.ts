/**
 * Error lines that callers can cause, rate-limited: at most `perWindow` lines per `windowMs`, the
 * rest counted and reported in one line when the next window opens, so a caller that makes every
 * request fail (or a database outage under load) cannot flood the log.
 *
 * @module
 */
import type { LogFields, Logger } from '../../logger.js';

/** @internal */
export class RateLimitedLog {
  readonly #log: Logger;
  readonly #perWindow: number;
  readonly #windowMs: number;
  #windowStart = 0;
  #lines = 0;
  #suppressed = 0;

  constructor(log: Logger, perWindow = 20, windowMs = 10_000) {
    this.#log = log;
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
  }

  /** Log at error level, unless this window's lines are spent. */
  error(message: string, fields?: LogFields): void {
    const now = Date.now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.flush();
      this.#windowStart = now;
      this.#lines = 0;
    }
    if (this.#lines >= this.#perWindow) {
      this.#suppressed++;
      return;
    }
    this.#lines++;
    this.#log.error(message, fields);
  }

  /** Report how many lines were held back, if any. */
  flush(): void {
    if (this.#suppressed === 0) return;
    this.#log.error('error lines suppressed (rate limit)', {
      suppressed: this.#suppressed,
      perWindow: this.#perWindow,
      windowMs: this.#windowMs,
    });
    this.#suppressed = 0;
  }
}
