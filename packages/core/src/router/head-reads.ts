/**
 * Reads of the store's head, shared. A caller asks for a head read that started after some
 * moment (taken as `started` then) and shares any read that qualifies, so many agents asking at
 * once cost one query.
 *
 * @internal
 * @module
 */

/** @internal */
export class HeadReads {
  readonly #read: () => Promise<number>;
  #started = 0;
  #last: { n: number; head: number } | null = null;
  #inflight: { n: number; promise: Promise<number> } | null = null;

  constructor(read: () => Promise<number>) {
    this.#read = read;
  }

  /** Reads started so far: a mark to pass to `after` later. */
  get started(): number {
    return this.#started;
  }

  /** The head, from a read that started after `mark` was taken. Rejects when that read fails. */
  after(mark: number): Promise<number> {
    if (this.#last && this.#last.n > mark) return Promise.resolve(this.#last.head);
    if (this.#inflight && this.#inflight.n > mark) return this.#inflight.promise;
    const n = ++this.#started;
    const promise = this.#read()
      .then((head) => {
        if (!this.#last || n > this.#last.n) this.#last = { n, head };
        return head;
      })
      .finally(() => {
        if (this.#inflight?.n === n) this.#inflight = null;
      });
    this.#inflight = { n, promise };
    return promise;
  }
}
