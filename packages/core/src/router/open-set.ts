/**
 * The router's view of its region's open events (placed, claimed or running on a server): who
 * owns each (to check acks), its latest version (to drop duplicates when inputs overlap), and its
 * encoded form (to answer a resync from memory, like the Kubernetes watch cache). Bounded twice:
 * past `max` events no further event is held, past `maxBytes` of encoded events no encoding is;
 * either way the set is no longer complete, resyncs read the store, and the encodings, useless
 * from then on, are released.
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
  /** Null once the set is incomplete. */
  readonly json: string | null;
}

/** @internal */
export class OpenSet {
  readonly #max: number;
  readonly #maxBytes: number;
  #bytes = 0;
  readonly #byId = new Map<number, Entry>();
  readonly #byServer = new Map<string, Map<number, Entry>>();
  readonly #recent: BoundedMap<number, { serverId: string; version: number }>;
  #complete = true;

  /**
   * @param max - most open events held; past it the set is incomplete and resyncs read the store
   * @param maxBytes - most characters of encoded events held; past it only owners and versions are
   * @param recent - how many recently finished events to remember for ack checks and dedupe
   */
  constructor(max: number, maxBytes: number, recent: number) {
    this.#max = max;
    this.#maxBytes = maxBytes;
    this.#recent = new BoundedMap(recent);
  }

  /** Open events held. */
  get size(): number {
    return this.#byId.size;
  }

  /** Characters of encoded events held. */
  get bytes(): number {
    return this.#bytes;
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
      this.#incomplete();
      return;
    }
    if (previous) this.#remove(previous);
    if (this.#complete && this.#bytes + json.length > this.#maxBytes) this.#incomplete();
    const held = this.#complete ? json : null;
    this.#bytes += held?.length ?? 0;
    const entry: Entry = { id: e.id, serverId: e.serverId, version: e.version, json: held };
    this.#byId.set(e.id, entry);
    const lane = this.#byServer.get(e.serverId) ?? new Map<number, Entry>();
    this.#byServer.set(e.serverId, lane);
    lane.set(e.id, entry);
  }

  /** The encoded open events of `serverId`, in id order. */
  snapshot(serverId: string): string[] {
    const lane = this.#byServer.get(serverId);
    if (!lane) return [];
    // Asked only while complete, when every entry holds its encoding.
    return [...lane.values()].sort((a, b) => a.id - b.id).flatMap((e) => (e.json === null ? [] : [e.json]));
  }

  /** Resyncs read the store from now on: keep owners and versions, release the encodings. */
  #incomplete(): void {
    if (!this.#complete) return;
    this.#complete = false;
    this.#bytes = 0;
    for (const [id, e] of this.#byId) {
      const bare: Entry = { ...e, json: null };
      this.#byId.set(id, bare);
      this.#byServer.get(e.serverId)?.set(id, bare);
    }
  }

  #remove(e: Entry): void {
    this.#bytes -= e.json?.length ?? 0;
    this.#byId.delete(e.id);
    const lane = this.#byServer.get(e.serverId);
    lane?.delete(e.id);
    if (lane?.size === 0) this.#byServer.delete(e.serverId);
  }
}
