/**
 * The router's bounded history of recent changes, for resume (the Kubernetes watch cache's
 * sliding window): a ring of the last `capacity` dispatched changes, indexed by server.
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
  readonly #ring: (HistoryEntry | undefined)[];
  readonly #lanes = new Map<string, Lane>();
  #next = 0;
  #size = 0;
  #oldest: number;

  /** @param start - the feed position the history starts at: every later change is held */
  constructor(capacity: number, start: number) {
    this.#capacity = capacity;
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

  /** Record a change, dropping the oldest when full. */
  push(entry: HistoryEntry): void {
    const evicted = this.#ring[this.#next];
    if (evicted) this.#evict(evicted);
    else this.#size++;
    this.#ring[this.#next] = entry;
    this.#next = (this.#next + 1) % this.#capacity;
    const lane = this.#lanes.get(entry.serverId) ?? { items: [], head: 0 };
    this.#lanes.set(entry.serverId, lane);
    lane.items.push(entry);
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
