/**
 * The router's view of its region's open events (placed, claimed or running on a server): who
 * owns each (to check acks), its latest version (to drop duplicates when inputs overlap), and its
 * encoded form (to answer a resync from memory, like the Kubernetes watch cache).
 *
 * @internal
 * @module
 */
import type { StoredEvent } from '../events/model.js';
import { isTerminal } from '../events/status.js';
import { BoundedMap } from './bounded-map.js';

interface Entry {
  readonly id: number;
  readonly serverId: string;
  readonly version: number;
  readonly json: string;
}

/** @internal */
export class OpenSet {
  readonly #max: number;
  readonly #byId = new Map<number, Entry>();
  readonly #byServer = new Map<string, Map<number, Entry>>();
  readonly #recent: BoundedMap<number, { serverId: string; version: number }>;
  #complete = true;

  /**
   * @param max - most open events held; past it the set is incomplete and resyncs read the store
   * @param recent - how many recently finished events to remember for ack checks and dedupe
   */
  constructor(max: number, recent: number) {
    this.#max = max;
    this.#recent = new BoundedMap(recent);
  }

  /** Open events held. */
  get size(): number {
    return this.#byId.size;
  }

  /** True while every open event of the region is held (a resync can be answered from memory). */
  get complete(): boolean {
    return this.#complete;
  }

  /** The latest version seen of `id`, open or recently finished. */
  version(id: number): number | undefined {
    return this.#byId.get(id)?.version ?? this.#recent.get(id)?.version;
  }

  /** The server `id` is placed on, when known. */
  owner(id: number): string | undefined {
    return this.#byId.get(id)?.serverId ?? this.#recent.get(id)?.serverId;
  }

  /** Record the latest state of an event placed on a server. */
  apply(e: StoredEvent, json: string): void {
    if (e.serverId === null) return;
    const previous = this.#byId.get(e.id);
    if (isTerminal(e.status)) {
      if (previous) this.#remove(previous);
      this.#recent.set(e.id, { serverId: e.serverId, version: e.version });
      return;
    }
    if (!previous && this.#byId.size >= this.#max) {
      this.#complete = false;
      return;
    }
    if (previous) this.#remove(previous);
    const entry: Entry = { id: e.id, serverId: e.serverId, version: e.version, json };
    this.#byId.set(e.id, entry);
    const lane = this.#byServer.get(e.serverId) ?? new Map<number, Entry>();
    this.#byServer.set(e.serverId, lane);
    lane.set(e.id, entry);
  }

  /** The encoded open events of `serverId`, in id order. */
  snapshot(serverId: string): string[] {
    const lane = this.#byServer.get(serverId);
    if (!lane) return [];
    return [...lane.values()].sort((a, b) => a.id - b.id).map((e) => e.json);
  }

  #remove(e: Entry): void {
    this.#byId.delete(e.id);
    const lane = this.#byServer.get(e.serverId);
    lane?.delete(e.id);
    if (lane?.size === 0) this.#byServer.delete(e.serverId);
  }
}
