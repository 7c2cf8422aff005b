/**
 * The in-memory changes feed: an append-only log of (seq, id) with lazy removal of entries an
 * event's later change superseded, compacted when half of it is stale.
 *
 * @internal
 * @module
 */

interface Entry {
  readonly seq: number;
  readonly id: number;
}

/** @internal */
export class FeedLog {
  #entries: Entry[] = [];
  #stale = 0;
  #head = 0;

  /** The latest sequence number handed out. */
  get head(): number {
    return this.#head;
  }

  /** Record a change of event `id`; returns its new sequence number. */
  next(id: number, previousSeq: number | null): number {
    if (previousSeq !== null) this.#stale++;
    this.#head += 1;
    this.#entries.push({ seq: this.#head, id });
    return this.#head;
  }

  /** An event left the store (pruned): its entry is stale. */
  drop(): void {
    this.#stale++;
  }

  /** Ids changed after `cursor`, oldest change first, for which `isCurrent(id, seq)` holds. */
  *after(cursor: number, isCurrent: (id: number, seq: number) => boolean): Generator<Entry> {
    if (this.#stale > 1024 && this.#stale * 2 > this.#entries.length) this.#compact(isCurrent);
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.seq <= cursor) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (isCurrent(e.id, e.seq)) yield e;
    }
  }

  #compact(isCurrent: (id: number, seq: number) => boolean): void {
    this.#entries = this.#entries.filter((e) => isCurrent(e.id, e.seq));
    this.#stale = 0;
  }
}
