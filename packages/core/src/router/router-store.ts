/**
 * The part of an {@link EventStore} the router uses. Any `EventStore<M>` satisfies it.
 *
 * @module
 */
import type {
  EventPage,
  EventQuery,
  FeedFilter,
  FeedPage,
  StoredEvent,
  TransitionInput,
  TransitionOutcome,
} from '../events/model.js';

/** What an {@link EventRouter} reads from and writes to: a subset of {@link EventStore}. */
export interface RouterStore {
  /** Read the changes feed after `cursor`. */
  readFeed(cursor: number, filter?: FeedFilter & { limit?: number }): Promise<FeedPage>;
  /** The latest feed position. */
  head(): Promise<number>;
  /** Query events (used to load the region's open events at start and for resyncs). */
  query(query: EventQuery): Promise<EventPage>;
  /** One event by id (to check an acknowledgement the router cannot place). */
  get(id: number): Promise<StoredEvent | null>;
  /** Apply agents' acknowledgements in one batch. */
  transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]>;
}
