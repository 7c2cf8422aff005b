/**
 * The router's bounded history of recent changes, for resume (the Kubernetes watch cache's
 * sliding window): a ring of the last `capacity` dispatched changes, indexed by server, holding at
 * most `maxBytes` characters of encoded events (the oldest go first past either bound).
 *
 * @internal
 * @module
 */

/** @internal One dispatched change. */
export interface HistoryEntry {
  readonly seq: number;
  readonly serverId: string;
  readonly json: string;
}

interface Lane {
  items: HistoryEntry[];
  head: number;
}

/** @internal */
export class History {
  readonly #capacity: number;
  readonly #maxBytes: number;
  #bytes = 0;
  readonly #ring: (HistoryEntry | undefined)[];
  readonly #lanes = new Map<string, Lane>();
  #next = 0;
  #size = 0;
  #oldest: number;

  /**
   * @param maxBytes - most characters of encoded events held (the newest change is always held)
   * @param start - the feed position the history starts at: every later change is held
   */
  constructor(capacity: number, maxBytes: number, start: number) {
    this.#capacity = capacity;
    this.#maxBytes = maxBytes;
    this.#ring = new Array(capacity);
    this.#oldest = start;
  }

  /** Every change after this position is held; a resume from an older cursor needs a resync. */
  get oldest(): number {
    return this.#oldest;
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Characters of encoded events held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Record a change, dropping the oldest past either bound. */
  push(entry: HistoryEntry): void {
    const evicted = this.#ring[this.#next];
    if (evicted) this.#evict(evicted);
    else this.#size++;
    this.#ring[this.#next] = entry;
    this.#bytes += entry.json.length;
    this.#next = (this.#next + 1) % this.#capacity;
    const lane = this.#lanes.get(entry.serverId) ?? { items: [], head: 0 };
    this.#lanes.set(entry.serverId, lane);
    lane.items.push(entry);
    while (this.#bytes > this.#maxBytes && this.#size > 1) {
      const oldest = (this.#next - this.#size + this.#capacity) % this.#capacity;
      const e = this.#ring[oldest]!;
      this.#ring[oldest] = undefined;
      this.#size--;
      this.#evict(e);
    }
  }

  /** The encoded changes of `serverId` after `cursor`, oldest first; null when `cursor` is too old. */
  since(serverId: string, cursor: number): string[] | null {
    if (cursor < this.#oldest) return null;
    const lane = this.#lanes.get(serverId);
    if (!lane) return [];
    const out: string[] = [];
    for (let i = lane.head; i < lane.items.length; i++) {
      const e = lane.items[i]!;
      if (e.seq > cursor) out.push(e.json);
    }
    return out;
  }

  #evict(e: HistoryEntry): void {
    this.#bytes -= e.json.length;
    if (e.seq > this.#oldest) this.#oldest = e.seq;
    const lane = this.#lanes.get(e.serverId);
    if (!lane) return;
    lane.head++;
    if (lane.head === lane.items.length) this.#lanes.delete(e.serverId);
    else if (lane.head > 64 && lane.head * 2 > lane.items.length) {
      lane.items = lane.items.slice(lane.head);
      lane.head = 0;
    }
  }
}
