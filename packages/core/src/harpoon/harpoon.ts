/**
 * Harpoon: the event aggregator and database proxy. The only component that touches the events
 * table; it coalesces callers' requests into few transactions, shares identical reads, bounds its
 * queues, and relays every committed change to the message bus.
 *
 * @module
 */

import { EventEmitter } from 'eventemitter3';
import type { z } from 'zod';
import type { MessageBus } from '../bus/message-bus.js';
import { BusyError, ValidationError } from '../errors.js';
import type {
  ClaimInput,
  EventPage,
  EventQuery,
  FeedFilter,
  FeedPage,
  TransitionInput,
  TransitionOutcome,
} from '../events/model.js';
import type { EventTypeMap, EventTypeRegistry } from '../events/registry.js';
import type { TraceContext } from '../events/trace-context.js';
import { type Logger, noopLogger } from '../logger.js';
import type { AppendRecord } from '../store/driver.js';
import type { EventStore } from '../store/event-store.js';
import type { EventOf, NewEventOf } from '../store/event-store-types.js';
import type { FollowOptions } from '../store/follow.js';
import { transitionBatchSpan } from '../tracing/spans.js';
import { activeTraceContext, addLinks, withSpan } from '../tracing/tracing.js';
import { parseOrThrow } from '../validation.js';
import type { HarpoonApi } from './api.js';
import { Batcher } from './batcher.js';
import type { ParkedChange, RelayCursorStore } from './cursor-store.js';
import { type BatchOptions, harpoonOptionsSchema, type RelaySettings } from './harpoon-options.js';
import { OutboxRelay, type OutboxRelayEvents } from './outbox-relay.js';
import { SingleFlight } from './single-flight.js';

/** Back-off suggested to a coalesced request refused as a whole, as the queue's own `BusyError`. */
const BUSY_RETRY_MS = 50;

/** Events Harpoon emits (its relay's events included). */
export interface HarpoonEvents extends OutboxRelayEvents {
  /** A group-committed batch ran. */
  'harpoon:batch': (e: { kind: 'create' | 'transition'; size: number; ms: number }) => void;
  /** A request was refused because the queue is full. */
  'harpoon:busy': (e: { kind: 'create' | 'transition'; pending: number }) => void;
}

/** Options of {@link Harpoon}. */
export interface HarpoonOptions<M extends EventTypeMap> {
  /** The event store Harpoon owns (the only one with database access). */
  store: EventStore<M>;
  /** Where committed changes are forwarded; without it, callers watch the feed instead. */
  bus?: MessageBus;
  /** Where the relay saves its cursor; required with `bus`. */
  cursors?: RelayCursorStore;
  /** Group commit of creates. */
  creates?: BatchOptions;
  /** Group commit of transitions. */
  transitions?: BatchOptions;
  /** Requests queued across both kinds before `BusyError` (default 10,000). */
  maxPending?: number;
  /** Outbox relay settings, or `false` to run none in this process. */
  relay?: RelaySettings | false;
  /** Delete terminal events older than `retentionMs` every `intervalMs`. */
  prune?: { retentionMs: number; intervalMs?: number };
  /** Logger (default: no-op). */
  logger?: Logger;
}

/** Counters of a running Harpoon. */
export interface HarpoonStats {
  /** Requests queued or in flight. */
  readonly pending: number;
  /** Transactions run for creates and transitions. */
  readonly batches: number;
  /** Reads served by a read already in flight. */
  readonly sharedReads: number;
  /** Changes the relay published. */
  readonly published: number;
  /** The relay's saved feed position. */
  readonly relayCursor: number;
  /** Changes the relay parked since start because they can never be published (see `parkedChanges`). */
  readonly parked: number;
}

/**
 * The sole gateway to the events table.
 *
 * @example
 * ```ts
 * import { Harpoon } from '@ctlplane/core';
 * import { MemoryBus, MemoryCursorStore } from '@ctlplane/adapters/memory';
 *
 * const harpoon = new Harpoon({ store, bus: new MemoryBus(), cursors: new MemoryCursorStore() });
 * harpoon.start();
 * const event = await harpoon.create({ type: 'droplet.create', payload, region: 'nyc1' });
 * ```
 */
export class Harpoon<M extends EventTypeMap = EventTypeMap>
  extends EventEmitter<HarpoonEvents>
  implements HarpoonApi<M>
{
  readonly #store: EventStore<M>;
  readonly #o: z.output<typeof harpoonOptionsSchema>;
  readonly #creates: Batcher<AppendRecord, EventOf<M>>;
  readonly #transitions: Batcher<TransitionInput, EventOf<M>>;
  readonly #reads = new SingleFlight<unknown>();
  /** The active trace context of each transition's caller, while it waits for its group commit. */
  readonly #callers = new WeakMap<TransitionInput, TraceContext>();
  readonly #relay: OutboxRelay | null;
  readonly #log: Logger;
  #pruneTimer: NodeJS.Timeout | null = null;

  /** @param options - the store, the bus and limits; validated here */
  constructor(options: HarpoonOptions<M>) {
    super();
    const { store, bus, cursors, logger, ...rest } = options;
    this.#o = Object.freeze(parseOrThrow(harpoonOptionsSchema, rest, 'Harpoon options'));
    this.#store = store;
    this.#log = (logger ?? noopLogger).child('harpoon');
    this.#creates = new Batcher({
      name: 'Harpoon creates',
      ...this.#o.creates,
      maxPending: this.#o.maxPending,
      failed: (err) => this.#busy('create', err),
      run: (records) => this.#timed('create', records.length, () => this.#store.appendPrepared(records)),
    });
    this.#transitions = new Batcher({
      name: 'Harpoon transitions',
      ...this.#o.transitions,
      maxPending: this.#o.maxPending,
      failed: (err) => this.#busy('transition', err),
      run: async (items) => {
        // Many callers' transitions: a root span, linked to each event's trace once it is known.
        const outcomes = await withSpan(
          'ctlplane.transitions',
          () => transitionBatchSpan(items.length),
          async (span) => {
            const out = await this.#timed('transition', items.length, () =>
              this.#store.transitionMany(items),
            );
            const callers = items.map((t) => this.#callers.get(t) ?? null);
            addLinks(span, [...callers, ...out.map((o) => (o.ok ? o.event.traceContext : null))]);
            return out;
          },
        );
        return outcomes.map((o) => (o.ok ? (o.event as EventOf<M>) : o.error));
      },
    });
    this.#relay =
      bus && this.#o.relay !== false
        ? new OutboxRelay({
            store,
            bus,
            cursors: requireCursors(cursors),
            ...this.#o.relay,
            logger: this.#log,
          })
        : null;
    this.#relay?.on('relay:published', (e) => this.emit('relay:published', e));
    this.#relay?.on('relay:error', (e) => this.emit('relay:error', e));
    this.#relay?.on('relay:parked', (e) => this.emit('relay:parked', e));
  }

  /** The registered event types (its store's). */
  get types(): EventTypeRegistry<M> {
    return this.#store.types;
  }

  /** Start the outbox relay and the pruner (idempotent). */
  start(): this {
    this.#relay?.start();
    if (this.#o.prune && !this.#pruneTimer) {
      const { retentionMs, intervalMs } = this.#o.prune;
      this.#pruneTimer = setInterval(() => {
        this.#store
          .prune(retentionMs)
          .catch((err: Error) => this.#log.warn('prune failed', { error: err.message }));
      }, intervalMs);
      this.#pruneTimer.unref();
    }
    return this;
  }

  /** Counters for dashboards and metrics. */
  get stats(): HarpoonStats {
    return {
      pending: this.#creates.pending + this.#transitions.pending,
      batches: this.#creates.batches + this.#transitions.batches,
      sharedReads: this.#reads.shared,
      published: this.#relay?.published ?? 0,
      relayCursor: this.#relay?.cursor ?? 0,
      parked: this.#relay?.parked ?? 0,
    };
  }

  /**
   * The changes the relay parked (across restarts, from its cursor store), newest first: each an
   * event version consumers never received. Empty without a relay. See {@link OutboxRelay.parkedChanges}.
   */
  parkedChanges(limit = 100): Promise<ParkedChange[]> {
    return this.#relay?.parkedChanges(limit) ?? Promise.resolve([]);
  }

  /** The relay's lag behind the feed head, in changes (0 without a relay). */
  relayLag(): Promise<number> {
    return this.#relay?.lag() ?? Promise.resolve(0);
  }

  create(event: NewEventOf<M>): Promise<EventOf<M>> {
    // Validated once, here: a bad request fails alone, and its batch appends the records unchecked.
    // Not an async function: each promise a create makes costs more with a context manager.
    let record: AppendRecord;
    try {
      record = this.#store.prepare(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#creates.submit(record);
  }

  /**
   * @internal Admit `n` writes of `kind` that arrive together (one coalesced HTTP request), or
   * refuse all of them with `BusyError` before any starts. Admitted when they leave at least as
   * much room in the queue as they take (or the queue is empty and they fit): one request takes at
   * most half of what is free, so a few large requests cannot fill the queue shared by every
   * caller and make the others `BUSY`.
   */
  admit(kind: 'create' | 'transition', n: number): void {
    const queue = kind === 'create' ? this.#creates : this.#transitions;
    const room = queue.room;
    if (n <= room / 2 || (queue.pending === 0 && n <= room)) return;
    this.emit('harpoon:busy', { kind, pending: this.stats.pending });
    throw new BusyError(
      `Harpoon ${kind}s: ${n} coalesced writes refused, ${room} free in the queue (one request may take at most half of it)`,
      BUSY_RETRY_MS,
    );
  }

  createMany(events: readonly NewEventOf<M>[]): Promise<EventOf<M>[]> {
    return this.#store.append(events);
  }

  async transition(input: TransitionInput): Promise<EventOf<M>> {
    // Validated here (sizes first): a bad request fails alone instead of failing its whole batch.
    const checked = this.#store.checkTransition(input);
    // The caller's span, for the group commit's links (the HTTP request's, or a coalesced item's).
    const caller = activeTraceContext();
    if (caller) this.#callers.set(checked, caller);
    return this.#transitions.submit(checked);
  }

  transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]> {
    return this.#store.transitionMany(inputs);
  }

  get(id: number): Promise<EventOf<M> | null> {
    return this.#shared(`get:${id}`, () => this.#store.get(id));
  }

  query(query: EventQuery): Promise<EventPage<EventOf<M>>> {
    return this.#shared(`query:${JSON.stringify(query)}`, () => this.#store.query(query));
  }

  readFeed(cursor: number, filter: FeedFilter & { limit?: number } = {}): Promise<FeedPage<EventOf<M>>> {
    return this.#shared(`feed:${cursor}:${JSON.stringify(filter)}`, () =>
      this.#store.readFeed(cursor, filter),
    );
  }

  head(): Promise<number> {
    return this.#shared('head', () => this.#store.head());
  }

  follow(cursor: number, options: FollowOptions = {}): AsyncIterable<FeedPage<EventOf<M>>> {
    return this.#store.follow(cursor, options);
  }

  /** Call `listener` after each append in this process (a co-located scheduler wakes at once). */
  onAppended(listener: () => void): () => void {
    return this.#store.onAppended(listener);
  }

  /**
   * Call `listener` after each of this process's commits that changed the feed; returns the
   * unsubscribe function. A cheap wake-up signal (no read): the HTTP server's long-polls use it.
   */
  onCommit(listener: () => void): () => void {
    return this.#store.onCommit(listener);
  }

  claim(input: ClaimInput): Promise<EventOf<M>[]> {
    return this.#store.claim(input);
  }

  renew(id: number, owner: string, leaseMs: number): Promise<EventOf<M>> {
    return this.#store.renew(id, owner, leaseMs);
  }

  release(id: number, owner: string): Promise<EventOf<M>> {
    return this.#store.release(id, owner);
  }

  /** Finish queued requests, stop the relay (its saved cursor stays), stop pruning. The store stays open. */
  async close(): Promise<void> {
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    this.#pruneTimer = null;
    await Promise.all([this.#creates.close(), this.#transitions.close()]);
    await this.#relay?.stop();
  }

  #shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#reads.do(key, fn) as Promise<T>;
  }

  /** A create or transition failed: `harpoon:busy` when it was refused for want of room. */
  #busy(kind: 'create' | 'transition', err: unknown): void {
    if ((err as { code?: string } | null)?.code === 'BUSY')
      this.emit('harpoon:busy', { kind, pending: this.stats.pending });
  }

  async #timed<T>(kind: 'create' | 'transition', size: number, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await fn();
    this.emit('harpoon:batch', { kind, size, ms: performance.now() - t0 });
    return out;
  }
}

function requireCursors(cursors: RelayCursorStore | undefined): RelayCursorStore {
  if (cursors) return cursors;
  const message = 'required when a bus is given: where the relay saves its position';
  throw new ValidationError(`invalid Harpoon options: cursors: ${message}`, [{ path: 'cursors', message }]);
}
