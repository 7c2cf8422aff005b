/**
 * A token bucket of frames per connection: an agent may send `perSecond` frames a second on
 * average, and as many at once after a second of quiet. Each frame costs the router a parse and
 * usually an answer (a pong, an `acked`), so a welcomed agent that floods them would otherwise
 * hold the event loop for as long as it keeps sending (330,000 heartbeats in 8.6 s in the abuse
 * suite, the good agents' deliveries delayed by a second).
 *
 * @internal
 * @module
 */

/** @internal */
export class FrameRate {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, now: number) {
    this.#perMs = perSecond / 1_000;
    this.#burst = perSecond;
    this.#tokens = perSecond;
    this.#at = now;
  }

  /** Spend one frame's token; false when the bucket is empty (the frame is over the rate). */
  take(now: number): boolean {
    // Wall-clock time can step back (NTP, a resumed VM): that must not take tokens away.
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
