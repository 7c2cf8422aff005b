/**
 * What every former database caller gets from Harpoon, in process or over HTTP.
 *
 * @module
 */
import type {
  ClaimInput,
  EventPage,
  EventQuery,
  FeedFilter,
  FeedPage,
  TransitionInput,
  TransitionOutcome,
} from '../events/model.js';
import type { EventTypeMap } from '../events/registry.js';
import type { EventOf, NewEventOf } from '../store/event-store-types.js';
import type { FollowOptions } from '../store/follow.js';

/** The Harpoon API: implemented by {@link Harpoon} (in process) and {@link HarpoonClient} (HTTP). */
export interface HarpoonApi<M extends EventTypeMap = EventTypeMap> {
  /** Create one event; concurrent calls are group-committed into few transactions. */
  create(event: NewEventOf<M>): Promise<EventOf<M>>;
  /** Create events atomically in one transaction. */
  createMany(events: readonly NewEventOf<M>[]): Promise<EventOf<M>[]>;
  /** Transition one event (compare-and-set); concurrent calls share transactions. */
  transition(input: TransitionInput): Promise<EventOf<M>>;
  /** Transition many events; each succeeds or fails on its own. */
  transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]>;
  /** One event, or null. Identical concurrent reads share one query. */
  get(id: number): Promise<EventOf<M> | null>;
  /** A page of events. Identical concurrent reads share one query. */
  query(query: EventQuery): Promise<EventPage<EventOf<M>>>;
  /** Read the changes feed after `cursor`. */
  readFeed(cursor: number, filter?: FeedFilter & { limit?: number }): Promise<FeedPage<EventOf<M>>>;
  /** The latest feed position. */
  head(): Promise<number>;
  /** Follow the changes feed (woken by commits in process; long-polled over HTTP). */
  follow(cursor: number, options?: FollowOptions): AsyncIterable<FeedPage<EventOf<M>>>;
  /** Claim events with a lease. */
  claim(input: ClaimInput): Promise<EventOf<M>[]>;
  /** Extend a lease. */
  renew(id: number, owner: string, leaseMs: number): Promise<EventOf<M>>;
  /** Give a lease back. */
  release(id: number, owner: string): Promise<EventOf<M>>;
}
