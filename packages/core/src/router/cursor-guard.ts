/**
 * The router's cursor is what agents resume from, so it only moves to feed positions the store
 * vouches for. Positions read from the store are trusted as they are; a pushed change's position
 * (from the bus) is used once a read of the store's head shows it exists. A change claiming a
 * position beyond the head is reported and never moves the cursor.
 *
 * @internal
 * @module
 */

/** @internal */
export interface CursorGuardOptions {
  /** Read the store's head (a counted query). */
  readHead(): Promise<number>;
  /** A pushed position was confirmed: the cursor may move to it. */
  advance(position: number): void;
  /** Pushed positions beyond the store's head. */
  bogus(positions: readonly number[], head: number): void;
  /** Least time between two head reads. */
  everyMs: number;
}

/** @internal */
export class CursorGuard {
  readonly #o: CursorGuardOptions;
  #trusted = 0;
  #pending: number[] = [];
  #timer: NodeJS.Timeout | null = null;
  #reading = false;
  #lastRead = 0;
  #stopped = false;

  constructor(options: CursorGuardOptions) {
    this.#o = options;
  }

  /** The highest position the store has shown. */
  get trusted(): number {
    return this.#trusted;
  }

  /** A position the store itself returned. */
  trust(position: number): void {
    if (position > this.#trusted) this.#trusted = position;
  }

  /** A pushed change's position: returned when usable now, else checked against the head soon. */
  offer(position: number): number | null {
    if (position <= this.#trusted) return position;
    this.#pending.push(position);
    this.#schedule();
    return null;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer || this.#reading || this.#stopped) return;
    const wait = Math.max(0, this.#lastRead + this.#o.everyMs - Date.now());
    this.#timer = setTimeout(() => void this.#check(), wait);
    this.#timer.unref?.();
  }

  async #check(): Promise<void> {
    this.#timer = null;
    this.#reading = true;
    this.#lastRead = Date.now();
    // Every position offered so far was committed before its change was published: the head read
    // now covers all of them. Positions offered meanwhile wait for the next read.
    const batch = this.#pending;
    this.#pending = [];
    try {
      const head = await this.#o.readHead();
      this.trust(head);
      const ok = batch.filter((p) => p <= head);
      const bad = batch.filter((p) => p > head);
      if (ok.length > 0) this.#o.advance(Math.max(...ok));
      if (bad.length > 0) this.#o.bogus(bad, head);
    } catch {
      this.#pending.push(...batch); // the store is away: try again later
    } finally {
      this.#reading = false;
      if (this.#pending.length > 0) this.#schedule();
    }
  }
}
