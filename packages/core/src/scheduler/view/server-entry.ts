/**
 * One server in a scheduler's view: the fleet's last confirmed state plus this instance's
 * reservations in flight ("holds"), flattened into typed arrays for the hot path. Holds and their
 * outcomes update the arrays incrementally; only a fresh state from the fleet rebuilds them.
 *
 * @internal
 * @module
 */
import type { Resources, Server, ServerState } from '../../fleet/model.js';
import type { MetricsSample } from '../metrics/source.js';
import type { CandidateServer } from '../pipeline/types.js';
import type { Partition } from './score-index.js';

/** @internal A reservation this instance sent (or is about to send) and has not heard back about. */
export interface Hold {
  readonly key: string;
  readonly entry: ServerEntry;
  readonly demand: Resources;
  readonly need: Float64Array;
  readonly group: string | null;
  /** The generation the reservation expects the server to be at. */
  readonly generation: number;
}

/** @internal Resource slots: names ↔ dense indexes, shared by every entry and request. */
export class ResourceSlots {
  readonly names: string[] = [];
  readonly #index = new Map<string, number>();

  get width(): number {
    return this.names.length;
  }

  get(name: string): number {
    return this.#index.get(name) ?? -1;
  }

  /** The slot of `name`, registering it. */
  ensure(name: string): number {
    let i = this.#index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.#index.set(name, i);
    }
    return i;
  }
}

function bump(groups: Map<string, number>, group: string, by: number): void {
  const n = (groups.get(group) ?? 0) + by;
  if (n > 0) groups.set(group, n);
  else groups.delete(group);
}

/** @internal */
export class ServerEntry implements CandidateServer {
  readonly id: string;
  region = '';
  state: ServerState = 'active';
  labels: Readonly<Record<string, string>> = {};
  capacity: Resources = {};
  usable: Float64Array = new Float64Array(0);
  /** Effective allocation: confirmed plus holds. */
  used: Float64Array = new Float64Array(0);
  /** Effective generation: confirmed plus one per hold. */
  generation = 0;
  /** The fleet's last full state of the server. */
  server: Server;
  /** Confirmed allocation and groups (the fleet state plus our acknowledged reservations). */
  baseUsed: Float64Array = new Float64Array(0);
  readonly baseGroups = new Map<string, number>();
  baseGeneration = 0;
  readonly groups = new Map<string, number>();
  holds: Hold[] = [];
  /** A fresh state that arrived while holds were in flight; applied once they settle. */
  pending: Server | null = null;
  /** Index bookkeeping. */
  estimate = 0;
  bucket = -1;
  pos = -1;
  memberPos = -1;
  /** The latest metrics sample (refreshed when the source reports new ones). */
  metrics: MetricsSample | undefined = undefined;
  /** The usable capacity vector as a key: servers of one shape share an index partition. */
  shape = '';
  /** The index partition holding the entry, or null when it is not indexed (inactive). */
  partition: Partition | null = null;
  /** This instance's fixed noise in the index order (see the `jitter` option). */
  jitter: number | undefined = undefined;
  /** Rank bookkeeping: the walk that last looked at this entry. */
  seen = 0;
  readonly #slots: ResourceSlots;

  constructor(server: Server, slots: ResourceSlots) {
    this.id = server.id;
    this.server = server;
    this.#slots = slots;
  }

  groupCount(group: string): number {
    return this.groups.get(group) ?? 0;
  }

  free(resource: string): number {
    const i = this.#slots.get(resource);
    return i < 0 ? 0 : (this.usable[i] ?? 0) - (this.used[i] ?? 0);
  }

  /** Recompute everything from `server` (a fresh fleet state) and the holds. */
  reset(server: Server, ratios: Float64Array): void {
    const slots = this.#slots;
    for (const r in server.capacity) slots.ensure(r);
    for (const r in server.allocated) slots.ensure(r);
    const w = slots.width;
    this.usable = new Float64Array(w);
    this.baseUsed = new Float64Array(w);
    for (const r in server.capacity) {
      const i = slots.get(r);
      this.usable[i] = server.capacity[r]! * (ratios[i] ?? 1);
    }
    for (const r in server.allocated) this.baseUsed[slots.get(r)] = server.allocated[r]!;
    this.baseGroups.clear();
    for (const g in server.groups) this.baseGroups.set(g, server.groups[g]!);
    this.baseGeneration = server.generation;
    this.server = server;
    this.region = server.region;
    this.state = server.state;
    this.labels = server.labels;
    this.capacity = server.capacity;
    this.shape = this.usable.join(',');
    this.#effective();
  }

  /** Resize for new resource slots, keeping every amount; usable capacity is recomputed. */
  widen(ratios: Float64Array): void {
    const w = this.#slots.width;
    const grow = (a: Float64Array): Float64Array => {
      const b = new Float64Array(w);
      b.set(a.subarray(0, Math.min(a.length, w)));
      return b;
    };
    this.baseUsed = grow(this.baseUsed);
    this.used = grow(this.used);
    this.usable = new Float64Array(w);
    for (const r in this.capacity) {
      const i = this.#slots.get(r);
      this.usable[i] = this.capacity[r]! * (ratios[i] ?? 1);
    }
    this.shape = this.usable.join(',');
  }

  /** Add a hold: the entry looks allocated at once. */
  addHold(h: Hold): void {
    this.holds.push(h);
    this.#add(this.used, h.need, 1);
    if (h.group) bump(this.groups, h.group, 1);
    this.generation++;
  }

  /**
   * Remove a hold. `acknowledged` moves it into the confirmed state at `generation`. A hold that
   * failed takes every later hold with it: they were decided assuming it, so they can never be
   * right (their expected generations could even be matched by another writer's changes).
   * Returns the holds removed (none when `h` was already gone).
   */
  removeHold(h: Hold, acknowledged: boolean, generation: number): readonly Hold[] {
    const at = this.holds.indexOf(h);
    if (at < 0) return [];
    let removed: Hold[];
    if (acknowledged) {
      removed = this.holds.splice(at, 1);
      this.#add(this.baseUsed, h.need, 1);
      if (h.group) bump(this.baseGroups, h.group, 1);
      this.baseGeneration = Math.max(this.baseGeneration, generation);
    } else {
      removed = this.holds.splice(at);
      for (const d of removed) {
        this.#add(this.used, d.need, -1);
        if (d.group) bump(this.groups, d.group, -1);
      }
    }
    this.generation = this.baseGeneration + this.holds.length;
    return removed;
  }

  #add(target: Float64Array, need: Float64Array, sign: 1 | -1): void {
    const n = Math.min(target.length, need.length);
    for (let i = 0; i < n; i++) target[i]! += sign * need[i]!;
  }

  #effective(): void {
    this.used = Float64Array.from(this.baseUsed);
    this.groups.clear();
    for (const [g, n] of this.baseGroups) this.groups.set(g, n);
    for (const h of this.holds) {
      this.#add(this.used, h.need, 1);
      if (h.group) bump(this.groups, h.group, 1);
    }
    this.generation = this.baseGeneration + this.holds.length;
  }
}
