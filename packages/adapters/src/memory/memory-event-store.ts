/**
 * The in-memory EventStore backend: the embedded default. Same semantics as the MySQL backend
 * (the same conformance suite runs against both), with bounded memory.
 *
 * @module
 */
import {
  BusyError,
  type ClaimInput,
  ConflictError,
  type EventPage,
  type EventStatus,
  type FeedFilter,
  type FeedPage,
  isTerminal,
  NotFoundError,
  type StoredEvent,
  TERMINAL_STATUSES,
  type TransitionInput,
  type TransitionOutcome,
} from '@ctlplane/core';
import {
  type AppendRecord,
  type DriverQuery,
  type EventStoreDriver,
  parseOrThrow,
  planTransition,
  storedFromRecord,
} from '@ctlplane/core/driver';
import { z } from 'zod';
import { FeedLog } from './feed-log.js';

const optionsSchema = z
  .object({
    maxEvents: z.number().int().positive().default(1_000_000),
  })
  .strict();

/** Options of {@link MemoryEventStoreDriver}. */
export interface MemoryEventStoreOptions {
  /**
   * Most events held at once (default 1,000,000). At the limit the oldest terminal events are
   * dropped first; when only active events remain, appends fail with a `BusyError`.
   */
  maxEvents?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * An EventStore backend held in this process's memory.
 *
 * @example
 * ```ts
 * const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
 * ```
 */
export class MemoryEventStoreDriver implements EventStoreDriver {
  /** Backend name. */
  readonly name = 'memory';
  /** Single-process and not durable. */
  readonly capabilities = { multiProcess: false, durable: false } as const;
  readonly #max: number;
  readonly #events = new Map<number, StoredEvent>();
  readonly #byKey = new Map<string, number>();
  readonly #byStatus = new Map<EventStatus, Set<number>>();
  readonly #feed = new FeedLog();
  readonly #listeners = new Set<() => void>();
  #nextId = 1;
  #notifyQueued = false;

  /** @param options - limits; validated here */
  constructor(options: MemoryEventStoreOptions = {}) {
    this.#max = parseOrThrow(optionsSchema, options, 'MemoryEventStoreDriver options').maxEvents;
  }

  /** Events currently held. */
  get size(): number {
    return this.#events.size;
  }

  async append(records: readonly AppendRecord[]): Promise<StoredEvent[]> {
    const keys = new Set<string>();
    let fresh = 0;
    for (const r of records) {
      if (r.idempotencyKey === null) fresh++;
      else if (!keys.has(r.idempotencyKey) && !this.#existing(r)) fresh++;
      if (r.idempotencyKey !== null) keys.add(r.idempotencyKey);
    }
    this.#makeRoom(fresh);
    const out: StoredEvent[] = [];
    const now = new Date();
    for (const r of records) {
      const existing = this.#existing(r);
      if (existing) {
        out.push(existing);
        continue;
      }
      const id = this.#nextId++;
      const event = storedFromRecord({ ...r, payload: structuredClone(r.payload) }, id, 0, now);
      this.#put({ ...event, seq: this.#feed.next(id, null) });
      if (r.idempotencyKey) this.#byKey.set(r.idempotencyKey, id);
      out.push(this.#events.get(id)!);
    }
    this.#notify();
    return out;
  }

  async get(id: number): Promise<StoredEvent | null> {
    return this.#events.get(id) ?? null;
  }

  async query(q: DriverQuery): Promise<EventPage> {
    const matches = (e: StoredEvent): boolean =>
      e.id > q.afterId &&
      (q.type === undefined || e.type === q.type) &&
      (q.serverId === undefined || e.serverId === q.serverId) &&
      (q.region === undefined || e.region === q.region);
    let candidates: Iterable<StoredEvent>;
    if (q.statuses.length > 0) {
      const ids = q.statuses
        .flatMap((s) => [...(this.#byStatus.get(s) ?? [])])
        .filter((id) => id > q.afterId);
      ids.sort((a, b) => a - b);
      candidates = ids.map((id) => this.#events.get(id)!);
    } else {
      candidates = this.#events.values();
    }
    const events: StoredEvent[] = [];
    for (const e of candidates) {
      if (!matches(e)) continue;
      if (events.length === q.limit) return { events, nextCursor: String(events.at(-1)!.id) };
      events.push(e);
    }
    return { events, nextCursor: null };
  }

  async transition(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]> {
    const outcomes = inputs.map((input): TransitionOutcome => {
      const current = this.#events.get(input.id) ?? null;
      const plan = planTransition(current, input);
      if (plan instanceof Error) return { ok: false, error: plan };
      if (plan.kind === 'noop') return { ok: true, event: current! };
      return { ok: true, event: this.#change(current!, plan.changes) };
    });
    this.#notify();
    return outcomes;
  }

  async claim(input: ClaimInput): Promise<StoredEvent[]> {
    const now = Date.now();
    const wanted = input.status ?? 'placed';
    const out: StoredEvent[] = [];
    const fits = (e: StoredEvent): boolean =>
      (input.types === undefined || input.types.includes(e.type)) &&
      (input.region === undefined || e.region === input.region) &&
      (input.serverId === undefined || e.serverId === input.serverId) &&
      (e.leaseExpiresAt === null || e.leaseExpiresAt.getTime() <= now);
    const sources: EventStatus[] = wanted === 'pending' ? ['pending'] : ['placed', 'claimed', 'running'];
    for (const status of sources) {
      for (const id of this.#byStatus.get(status) ?? []) {
        if (out.length >= input.limit) break;
        const e = this.#events.get(id)!;
        // A placed event never has a lease; claimed/running ones are claimable only once it expired.
        if (status !== 'placed' && status !== 'pending' && e.leaseExpiresAt === null) continue;
        if (!fits(e)) continue;
        out.push(
          this.#change(e, {
            status: wanted === 'pending' ? 'pending' : 'claimed',
            leaseOwner: input.owner,
            leaseExpiresAt: new Date(now + input.leaseMs),
            attempts: e.attempts + 1,
          }),
        );
      }
    }
    if (out.length > 0) this.#notify();
    return out;
  }

  async renew(id: number, owner: string, leaseMs: number): Promise<StoredEvent> {
    const e = this.#leaseHeldBy(id, owner);
    return this.#change(e, { leaseExpiresAt: new Date(Date.now() + leaseMs) }, false);
  }

  async release(id: number, owner: string): Promise<StoredEvent> {
    const e = this.#leaseHeldBy(id, owner);
    return this.#change(e, { leaseExpiresAt: new Date(Date.now()) }, false);
  }

  async readFeed(cursor: number, limit: number, filter: FeedFilter): Promise<FeedPage> {
    const statuses =
      filter.status === undefined
        ? null
        : typeof filter.status === 'string'
          ? [filter.status]
          : filter.status;
    const events: StoredEvent[] = [];
    let last = cursor;
    for (const entry of this.#feed.after(cursor, (id, seq) => this.#events.get(id)?.seq === seq)) {
      const e = this.#events.get(entry.id)!;
      last = entry.seq;
      if (filter.region !== undefined && e.region !== filter.region) continue;
      if (filter.serverId !== undefined && e.serverId !== filter.serverId) continue;
      if (statuses && !statuses.includes(e.status)) continue;
      events.push(e);
      if (events.length === limit) break;
    }
    return { events, cursor: last };
  }

  async head(): Promise<number> {
    return this.#feed.head;
  }

  async prune(before: Date, limit: number): Promise<number> {
    return this.#pruneTerminal(limit, (e) => e.updatedAt.getTime() < before.getTime());
  }

  onCommit(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  #existing(r: AppendRecord): StoredEvent | undefined {
    if (!r.idempotencyKey) return undefined;
    const id = this.#byKey.get(r.idempotencyKey);
    return id === undefined ? undefined : this.#events.get(id);
  }

  #makeRoom(needed: number): void {
    const excess = this.#events.size + needed - this.#max;
    if (excess <= 0) return;
    const freed = this.#pruneTerminal(excess, () => true);
    if (freed < excess) {
      throw new BusyError(
        `memory store holds ${this.#events.size} active events (maxEvents ${this.#max})`,
        1_000,
      );
    }
  }

  #pruneTerminal(limit: number, eligible: (e: StoredEvent) => boolean): number {
    const victims: StoredEvent[] = [];
    for (const status of TERMINAL_STATUSES) {
      for (const id of this.#byStatus.get(status) ?? []) {
        const e = this.#events.get(id)!;
        if (eligible(e)) victims.push(e);
      }
    }
    victims.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || a.id - b.id);
    for (const e of victims.slice(0, limit)) {
      this.#events.delete(e.id);
      this.#byStatus.get(e.status)?.delete(e.id);
      if (e.idempotencyKey) this.#byKey.delete(e.idempotencyKey);
      this.#feed.drop();
    }
    return Math.min(limit, victims.length);
  }

  #leaseHeldBy(id: number, owner: string): StoredEvent {
    const e = this.#events.get(id);
    if (!e) throw new NotFoundError(`event ${id} not found`);
    if (e.leaseOwner !== owner || isTerminal(e.status) || (e.leaseExpiresAt?.getTime() ?? 0) <= Date.now()) {
      throw new ConflictError(`event ${id}: no live lease held by this owner`, { id });
    }
    return e;
  }

  /** Replace an event with changed fields; a status change (or `bumpFeed`) moves it in the feed. */
  #change(e: StoredEvent, changes: Partial<Mutable<StoredEvent>>, bumpFeed = true): StoredEvent {
    const next: Mutable<StoredEvent> = { ...e, ...changes, version: e.version + 1, updatedAt: new Date() };
    if (bumpFeed) next.seq = this.#feed.next(e.id, e.seq);
    if (next.status !== e.status) this.#byStatus.get(e.status)?.delete(e.id);
    this.#put(next);
    return this.#events.get(e.id)!;
  }

  #put(e: StoredEvent): void {
    this.#events.set(e.id, deepFreeze(e));
    const set = this.#byStatus.get(e.status) ?? new Set<number>();
    this.#byStatus.set(e.status, set);
    set.add(e.id);
  }

  #notify(): void {
    if (this.#notifyQueued || this.#listeners.size === 0) return;
    this.#notifyQueued = true;
    queueMicrotask(() => {
      this.#notifyQueued = false;
      for (const l of this.#listeners) l();
    });
  }
}
