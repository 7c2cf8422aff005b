/**
 * The in-memory fleet backend: the embedded default. Same semantics as the MySQL backend (the same
 * contract suite runs against both).
 *
 * @module
 */
import {
  type Allocation,
  type AllocationQuery,
  NotFoundError,
  type ReleaseInput,
  type ReleaseOutcome,
  type ReserveInput,
  type ReserveOutcome,
  type Resources,
  type Server,
  type ServerQuery,
  type ServerState,
} from '@ctlplane/core';
import {
  checkReservation,
  type FleetDriver,
  isFenced,
  isRetired,
  retiredFence,
  type ServerRecord,
} from '@ctlplane/core/driver';

/** A server as held here: mutable counters, with a frozen snapshot made only when someone reads it. */
interface Held {
  id: string;
  region: string;
  state: ServerState;
  capacity: Resources;
  labels: Readonly<Record<string, string>>;
  allocated: Record<string, number>;
  groups: Record<string, number>;
  generation: number;
  /** Epoch ms of the last change (a Date is made only for snapshots). */
  updatedAt: number;
  snapshot: Server | null;
}

/** An allocation as held here (its Date is made only when listed). */
interface HeldAllocation {
  readonly key: string;
  readonly serverId: string;
  readonly demand: Resources;
  readonly group: string | null;
  readonly fence: number | null;
  readonly createdAt: number;
}

function add(target: Record<string, number>, key: string, by: number): void {
  const n = (target[key] ?? 0) + by;
  if (n === 0) delete target[key];
  else target[key] = n;
}

/**
 * A fleet held in this process's memory. Every call is atomic (it runs to completion without
 * yielding), which is what makes compare-and-set trivially safe here.
 *
 * @example
 * ```ts
 * const fleet = new Fleet({ driver: new MemoryFleetDriver() });
 * ```
 */
export class MemoryFleetDriver implements FleetDriver {
  /** Backend name. */
  readonly name = 'memory';
  /** Single-process and not durable. */
  readonly capabilities = { multiProcess: false, durable: false } as const;
  readonly #servers = new Map<string, Held>();
  readonly #allocations = new Map<string, HeldAllocation>();
  /** Released keys: the fence each is retired up to, and when (see `ReleaseInput`). */
  readonly #retired = new Map<string, { fence: number; at: number }>();

  async upsert(servers: readonly ServerRecord[]): Promise<Server[]> {
    const now = Date.now();
    return servers.map((s) => {
      const prev = this.#servers.get(s.id);
      const held: Held = {
        id: s.id,
        region: s.region,
        state: s.state,
        capacity: Object.freeze(Object.fromEntries(Object.entries(s.capacity).filter(([, v]) => v > 0))),
        labels: Object.freeze({ ...s.labels }),
        allocated: prev?.allocated ?? {},
        groups: prev?.groups ?? {},
        generation: (prev?.generation ?? 0) + 1,
        updatedAt: now,
        snapshot: null,
      };
      this.#servers.set(s.id, held);
      return this.#snapshot(held);
    });
  }

  async get(id: string): Promise<Server | null> {
    const s = this.#servers.get(id);
    return s ? this.#snapshot(s) : null;
  }

  async list(query: ServerQuery): Promise<Server[]> {
    const states =
      query.state === undefined ? null : typeof query.state === 'string' ? [query.state] : query.state;
    const since = query.updatedSince?.getTime();
    const out: Server[] = [];
    for (const s of this.#servers.values()) {
      if (query.region !== undefined && s.region !== query.region) continue;
      if (states && !states.includes(s.state)) continue;
      if (since !== undefined && s.updatedAt < since) continue;
      out.push(this.#snapshot(s));
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async setState(id: string, state: ServerState): Promise<Server> {
    const s = this.#servers.get(id);
    if (!s) throw new NotFoundError(`server ${id} not found`);
    s.state = state;
    this.#touch(s);
    return this.#snapshot(s);
  }

  async reserve(inputs: readonly ReserveInput[]): Promise<ReserveOutcome[]> {
    const broken = new Set<string>();
    const made: HeldAllocation[] = [];
    const outcomes = inputs.map((input): ReserveOutcome => {
      const { key, serverId } = input;
      const s = this.#servers.get(serverId);
      const fenced =
        isFenced(this.#allocations.get(key)?.fence, input.fence) ||
        isRetired(this.#retired.get(key)?.fence, input.fence);
      const failure = broken.has(serverId) ? 'conflict' : fenced ? 'fenced' : checkReservation(s, input);
      if (failure !== null) {
        broken.add(serverId);
        return { ok: false, key, serverId, reason: failure, server: s ? this.#snapshot(s) : null };
      }
      const held = s!;
      for (const r in input.demand) add(held.allocated, r, input.demand[r]!);
      if (input.group) add(held.groups, input.group, 1);
      this.#touch(held);
      made.push({
        key,
        serverId,
        demand: { ...input.demand },
        group: input.group ?? null,
        fence: input.fence ?? null,
        createdAt: held.updatedAt,
      });
      return { ok: true, key, serverId, generation: held.generation };
    });
    // A key held from an earlier attempt is given back in the same call when its input applied, as MySQL does.
    for (const { key } of made) {
      const previous = this.#allocations.get(key);
      if (previous) this.#releaseOne(previous);
    }
    for (const a of made) this.#allocations.set(a.key, a);
    return outcomes;
  }

  async release(inputs: readonly ReleaseInput[]): Promise<ReleaseOutcome[]> {
    return inputs.map(({ key, fence }): ReleaseOutcome => {
      const a = this.#allocations.get(key);
      if (a && isFenced(a.fence, fence)) return { ok: false, key, reason: 'fenced' };
      this.#retire(key, retiredFence(a?.fence, fence));
      if (!a) return { ok: false, key, reason: 'not_found' };
      return { ok: true, key, server: this.#snapshot(this.#releaseOne(a)) };
    });
  }

  async pruneReleased(before: Date, limit: number): Promise<number> {
    const cutoff = before.getTime();
    let n = 0;
    for (const [key, r] of this.#retired) {
      if (n >= limit) break;
      if (r.at >= cutoff) continue;
      this.#retired.delete(key);
      n++;
    }
    return n;
  }

  async allocations(query: AllocationQuery): Promise<Allocation[]> {
    const source = query.keys
      ? query.keys.flatMap((k) => this.#allocations.get(k) ?? [])
      : [...this.#allocations.values()];
    const out = source.filter((a) => query.serverId === undefined || a.serverId === query.serverId);
    const copy = (a: HeldAllocation): Allocation =>
      Object.freeze({ ...a, demand: Object.freeze({ ...a.demand }), createdAt: new Date(a.createdAt) });
    return [...new Map(out.map((a) => [a.key, copy(a)])).values()].sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
    );
  }

  async close(): Promise<void> {}

  #releaseOne(a: HeldAllocation): Held {
    this.#allocations.delete(a.key);
    const s = this.#servers.get(a.serverId)!;
    for (const r in a.demand) add(s.allocated, r, -a.demand[r]!);
    if (a.group) add(s.groups, a.group, -1);
    this.#touch(s);
    return s;
  }

  #retire(key: string, fence: number | null): void {
    if (fence === null) return;
    const prev = this.#retired.get(key);
    this.#retired.set(key, { fence: Math.max(fence, prev?.fence ?? fence), at: Date.now() });
  }

  #touch(s: Held): void {
    s.generation++;
    s.updatedAt = Date.now();
    s.snapshot = null;
  }

  #snapshot(s: Held): Server {
    s.snapshot ??= Object.freeze({
      id: s.id,
      region: s.region,
      state: s.state,
      capacity: s.capacity,
      allocated: Object.freeze({ ...s.allocated }),
      labels: s.labels,
      groups: Object.freeze({ ...s.groups }),
      generation: s.generation,
      updatedAt: new Date(s.updatedAt),
    });
    return s.snapshot;
  }
}
