/**
 * The EventStore every component talks to: validation, typing, retries, close semantics and
 * events, once, around any {@link EventStoreDriver}.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import type { z } from 'zod';
import { checkBatch, DriverRuntime } from '../driver/driver-runtime.js';
import { ValidationError } from '../errors.js';
import { MAX_ERROR_BYTES, MAX_RESULT_BYTES } from '../events/limits.js';
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
import { type Logger, noopLogger } from '../logger.js';
import { appendSpan, transitionEvent } from '../tracing/spans.js';
import { addSpanEvent, withSpan } from '../tracing/tracing.js';
import { cursorSchema, idSchema, nameSchema, parseOrThrow } from '../validation.js';
import { checkStoreParts } from './check-parts.js';
import type { AppendRecord, DriverCapabilities, EventStoreDriver } from './driver.js';
import type {
  EventLimits,
  EventOf,
  EventStoreEvents,
  EventStoreOptions,
  NewEventOf,
} from './event-store-types.js';
import { type FollowOptions, followFeed } from './follow.js';
import {
  claimSchema,
  DEFAULT_FEED_LIMIT,
  DEFAULT_QUERY_LIMIT,
  feedFilterSchema,
  querySchema,
  storeOptionsSchema,
  transitionSchema,
} from './schemas.js';
import { toAppendRecord } from './to-append-record.js';

/**
 * The durable event store: append, query, transition, claim with leases, and a gap-free changes
 * feed. Backend-agnostic: pass the driver of an adapter.
 *
 * @example
 * ```ts
 * import { EventStore, defineEventTypes } from '@ctlplane/core';
 * import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
 * import { z } from 'zod';
 *
 * const types = defineEventTypes({ 'droplet.create': z.object({ vcpus: z.number().int().positive() }) });
 * const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
 * const [event] = await store.append([{ type: 'droplet.create', payload: { vcpus: 2 }, region: 'nyc1' }]);
 * ```
 */
export class EventStore<M extends EventTypeMap = EventTypeMap> extends EventEmitter<EventStoreEvents> {
  readonly #driver: EventStoreDriver;
  readonly #types: EventTypeRegistry<M>;
  readonly #log: Logger;
  readonly #opts: z.output<typeof storeOptionsSchema>;
  readonly #runtime: DriverRuntime;
  readonly #abort = new AbortController();
  /** Records this store validated in `prepare`: the only ones `appendPrepared` takes. */
  readonly #prepared = new WeakSet<AppendRecord>();

  /** @param options - driver, types and limits; validated here */
  constructor(options: EventStoreOptions<M>) {
    super();
    const { driver, types, logger, ...rest } = options;
    checkStoreParts(driver, types);
    this.#opts = Object.freeze(parseOrThrow(storeOptionsSchema, rest, 'EventStore options'));
    this.#driver = driver;
    this.#types = types;
    this.#log = (logger ?? noopLogger).child(`store:${driver.name}`);
    this.#runtime = new DriverRuntime('EventStore', driver.name, {
      retries: this.#opts.retries,
      log: this.#log,
      onRetry: (operation, attempt, error) => this.emit('store:retry', { operation, attempt, error }),
      writeConcurrency: driver.capabilities.writeConcurrency,
      maxQueuedWrites: this.#opts.maxQueuedWrites,
    });
  }

  /** The registered event types. */
  get types(): EventTypeRegistry<M> {
    return this.#types;
  }

  /** The size limits every write is checked against, before any other work. */
  get limits(): EventLimits {
    return {
      maxPayloadBytes: this.#opts.maxPayloadBytes,
      maxResultBytes: MAX_RESULT_BYTES,
      maxErrorBytes: MAX_ERROR_BYTES,
    };
  }

  /** What the backend can do. */
  get capabilities(): DriverCapabilities {
    return this.#driver.capabilities;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#runtime.closed;
  }

  /**
   * Append events atomically: all are stored or none. An event whose idempotency key was seen
   * before returns the stored original instead of a duplicate.
   *
   * @throws ValidationError naming `[i].field` for any bad event; nothing is written
   */
  async append(events: readonly NewEventOf<M>[]): Promise<EventOf<M>[]> {
    this.#open();
    this.#checkBatch(events);
    // Array.from visits holes of a sparse array (as undefined), which map() would skip.
    return this.#appendRecords(Array.from(events, (e, i) => this.#toRecord(e, i)));
  }

  /**
   * @internal Validate one event now for an `appendPrepared` later: throws the
   * `ValidationError` that `append([event])` would. The record holds its own copy of the payload.
   */
  prepare(event: NewEventOf<M>): AppendRecord {
    const record = Object.freeze(this.#toRecord(event, 0, true));
    this.#prepared.add(record);
    return record;
  }

  /**
   * @internal Append records from this store's `prepare`, atomically, without
   * validating them again (Harpoon's group commit: each request was checked when it arrived).
   *
   * @throws ValidationError for a record this store did not prepare; nothing is written
   */
  async appendPrepared(records: readonly AppendRecord[]): Promise<EventOf<M>[]> {
    this.#open();
    this.#checkBatch(records);
    const list = Array.from(records, (r, i) => {
      if (this.#prepared.has(r)) return r;
      const message = 'must be a record prepared by this store';
      throw new ValidationError(`[${i}]: ${message}`, [{ path: `[${i}]`, message }]);
    });
    return this.#appendRecords(list, true);
  }

  /**
   * Check events without storing them: throws the `ValidationError` that `append` would.
   * Harpoon uses it so that one bad request never fails the batch it would have joined.
   */
  validate(events: readonly NewEventOf<M>[]): void {
    Array.from(events, (e, i) => this.#toRecord(e, i));
  }

  /** Append one event. Same rules as {@link EventStore.append}. */
  async appendOne(event: NewEventOf<M>): Promise<EventOf<M>> {
    const [stored] = await this.append([event]);
    return stored!;
  }

  /** The event with this id, or null when there is none. */
  async get(id: number): Promise<EventOf<M> | null> {
    this.#open();
    parseOrThrow(idSchema, id, 'id');
    return (await this.#run('get', () => this.#driver.get(id))) as EventOf<M> | null;
  }

  /** Events matching the filters, a page at a time, in ascending id order. */
  async query(query: EventQuery = {}): Promise<EventPage<EventOf<M>>> {
    this.#open();
    const q = parseOrThrow(querySchema, query, 'query');
    const statuses = q.status === undefined ? [] : typeof q.status === 'string' ? [q.status] : [...q.status];
    const page = await this.#run('query', () =>
      this.#driver.query({
        statuses,
        type: q.type,
        serverId: q.serverId,
        region: q.region,
        limit: q.limit ?? DEFAULT_QUERY_LIMIT,
        afterId: q.cursor ? Number(q.cursor) : 0,
      }),
    );
    return page as EventPage<EventOf<M>>;
  }

  /**
   * Move an event to another status, compare-and-set on `version` and/or `from`.
   *
   * @throws ConflictError on a lost race or an illegal transition; NotFoundError for an unknown id
   */
  async transition(input: TransitionInput): Promise<EventOf<M>> {
    const [outcome] = await this.transitionMany([input]);
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.event as EventOf<M>;
  }

  /**
   * Apply many transitions in one round trip; each succeeds or fails on its own.
   *
   * @throws ValidationError naming `transitions` for more than `maxBatchSize` inputs (or not an
   *   array), and `transition [i]` and the field for any bad input (sizes are checked first, in
   *   work bounded by the limits); nothing is applied
   */
  async transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]> {
    this.#open();
    checkBatch(inputs, 'transitions', { min: 0, max: this.#opts.maxBatchSize, noun: 'transitions' });
    const parsed = inputs.map((t, i) => this.checkTransition(t, i));
    if (parsed.length === 0) return [];
    const outcomes = await this.#runtime.write('transition', () => this.#driver.transition(parsed));
    outcomes.forEach((o, i) => {
      if (!o.ok) return;
      this.emit('store:transitioned', { id: o.event.id, to: o.event.status });
      addSpanEvent('ctlplane.transition', () => transitionEvent(parsed[i]!, o.event));
    });
    return outcomes;
  }

  /**
   * @internal Validate one transition now, as `transitionMany` would: Harpoon checks each request
   * before it joins a group commit, so that a bad one fails alone.
   *
   * @throws ValidationError naming `transition [i]` and the field
   */
  checkTransition(input: TransitionInput, i = 0): TransitionInput {
    return parseOrThrow(transitionSchema, input, `transition [${i}]`) as TransitionInput;
  }

  /** Claim up to `limit` events with an exclusive lease for `owner`. */
  async claim(input: ClaimInput): Promise<EventOf<M>[]> {
    this.#open();
    const c = parseOrThrow(claimSchema, input, 'claim') as ClaimInput;
    const events = await this.#runtime.write('claim', () => this.#driver.claim(c));
    if (events.length === 0) this.emit('store:claim:empty', { owner: c.owner });
    else this.emit('store:claimed', { owner: c.owner, count: events.length });
    return events as EventOf<M>[];
  }

  /** Extend the lease `owner` holds. @throws ConflictError when the lease is not `owner`'s */
  async renew(id: number, owner: string, leaseMs: number): Promise<EventOf<M>> {
    this.#open();
    parseOrThrow(idSchema, id, 'id');
    parseOrThrow(nameSchema, owner, 'owner');
    parseOrThrow(claimSchema.shape.leaseMs, leaseMs, 'leaseMs');
    return (await this.#run('renew', () => this.#driver.renew(id, owner, leaseMs))) as EventOf<M>;
  }

  /** Give back a lease: the event is claimable again at once. */
  async release(id: number, owner: string): Promise<EventOf<M>> {
    this.#open();
    parseOrThrow(idSchema, id, 'id');
    parseOrThrow(nameSchema, owner, 'owner');
    return (await this.#run('release', () => this.#driver.release(id, owner))) as EventOf<M>;
  }

  /**
   * Read the changes feed after `cursor`: each changed event once, with its latest state, in the
   * order the changes committed. A reader that follows the returned cursor never skips a change.
   */
  async readFeed(
    cursor: number,
    filter: FeedFilter & { limit?: number } = {},
  ): Promise<FeedPage<EventOf<M>>> {
    this.#open();
    parseOrThrow(cursorSchema, cursor, 'cursor');
    const { limit = DEFAULT_FEED_LIMIT, ...f } = parseOrThrow(feedFilterSchema, filter, 'feed filter');
    return (await this.#run('readFeed', () => this.#driver.readFeed(cursor, limit, f))) as FeedPage<
      EventOf<M>
    >;
  }

  /** The latest position of the changes feed; start a follower here to see only new changes. */
  async head(): Promise<number> {
    this.#open();
    return this.#run('head', () => this.#driver.head());
  }

  /**
   * Follow the changes feed from `cursor`, waking on this process's commits and polling every
   * `pollMs` for other processes' commits. Ends when `signal` aborts or the store closes.
   */
  follow(cursor: number, options: FollowOptions = {}): AsyncIterable<FeedPage<EventOf<M>>> {
    this.#open();
    return followFeed(
      {
        read: (c, f) => this.readFeed(c, f),
        onCommit: (l) => this.#driver.onCommit(l),
        closedSignal: this.#abort.signal,
      },
      cursor,
      options,
    );
  }

  /**
   * Call `listener` after each append through this store (`store:appended`); returns an
   * unsubscribe. A {@link Scheduler} on this store uses it to claim new events at once.
   */
  onAppended(listener: () => void): () => void {
    this.on('store:appended', listener);
    return () => this.off('store:appended', listener);
  }

  /**
   * Call `listener` after commits of this process that changed the feed (appends, transitions,
   * claims; a burst may be signalled once); returns the unsubscribe function. Other processes'
   * commits are not signalled: poll `head()` for those.
   */
  onCommit(listener: () => void): () => void {
    this.#open();
    return this.#driver.onCommit(listener);
  }

  /** Delete terminal events unchanged for `retentionMs`; returns how many were deleted. */
  async prune(retentionMs: number, limit = 10_000): Promise<number> {
    this.#open();
    const before = new Date(Date.now() - retentionMs);
    const n = await this.#run('prune', () => this.#driver.prune(before, limit));
    if (n > 0) this.#log.info('pruned terminal events', { count: n, before: before.toISOString() });
    return n;
  }

  /** Close the store and its backend. Idempotent; later calls get a `ClosedError`. */
  close(): Promise<void> {
    return this.#runtime.close(() => {
      this.#abort.abort();
      return this.#driver.close().finally(() => this.emit('store:closed', {}));
    });
  }

  #open(): void {
    this.#runtime.assertOpen();
  }

  #checkBatch(batch: readonly unknown[]): void {
    checkBatch(batch, 'events', { min: 1, max: this.#opts.maxBatchSize, noun: 'events' });
  }

  /**
   * @param groupCommit - records of many callers (Harpoon's): the span starts a trace of its own
   *   and links to each record's; otherwise it is a child of the caller's active span
   */
  async #appendRecords(records: readonly AppendRecord[], groupCommit = false): Promise<EventOf<M>[]> {
    const stored = await withSpan(
      'ctlplane.append',
      () => appendSpan(records, groupCommit),
      () => this.#runtime.write('append', () => this.#driver.append(records)),
    );
    this.emit('store:appended', { count: stored.length });
    return stored as EventOf<M>[];
  }

  #toRecord(event: NewEventOf<M>, i: number, snapshot = false): AppendRecord {
    const rules = { types: this.#types, maxPayloadBytes: this.#opts.maxPayloadBytes };
    return toAppendRecord(event, i, rules, snapshot);
  }

  #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.#runtime.run(operation, fn);
  }
}
