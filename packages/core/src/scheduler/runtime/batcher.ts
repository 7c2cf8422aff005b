/**
 * A micro-batcher: arrays of items submitted in the same tick go out together, at most
 * `maxBatch` items per call (an array is never split). `singleFlight` keeps one call in flight at
 * a time, so a batch is formed only after the previous one's outcome is known (the reservation
 * chain relies on that).
 *
 * @internal
 * @module
 */

interface Waiting<I, O> {
  readonly items: readonly I[];
  readonly resolve: (o: O[]) => void;
  readonly reject: (e: unknown) => void;
}

/** @internal */
export class Batcher<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #max: number;
  readonly #single: boolean;
  #queue: Waiting<I, O>[] = [];
  #scheduled = false;
  #inFlight = 0;

  constructor(run: (items: I[]) => Promise<O[]>, maxBatch: number, singleFlight: boolean) {
    this.#run = run;
    this.#max = maxBatch;
    this.#single = singleFlight;
  }

  /** Submit items; resolves with their outputs in order. */
  submitAll(items: readonly I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.#queue.push({ items, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#queue.length > 0 && !(this.#single && this.#inFlight > 0)) {
      let take = 0;
      let size = 0;
      while (
        take < this.#queue.length &&
        (take === 0 || size + this.#queue[take]!.items.length <= this.#max)
      ) {
        size += this.#queue[take]!.items.length;
        take++;
      }
      const batch = this.#queue.splice(0, take);
      const items = batch.length === 1 ? [...batch[0]!.items] : batch.flatMap((w) => w.items);
      this.#inFlight++;
      this.#run(items)
        .then(
          (outs) => {
            let at = 0;
            for (const w of batch) {
              w.resolve(outs.slice(at, at + w.items.length));
              at += w.items.length;
            }
          },
          (err: unknown) => {
            for (const w of batch) w.reject(err);
          },
        )
        .finally(() => {
          this.#inFlight--;
          if (this.#queue.length > 0) this.#schedule();
        });
    }
  }
}
