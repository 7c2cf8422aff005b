/**
 * Identical concurrent reads share one backend call.
 *
 * @module
 */

/** @internal */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();
  #shared = 0;

  /** How many calls were served by a call already in flight. */
  get shared(): number {
    return this.#shared;
  }

  /** Run `fn` unless a call with the same key is in flight; then share its result. */
  do(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running) {
      this.#shared++;
      return running;
    }
    const p = fn().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }
}
