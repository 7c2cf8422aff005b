/**
 * The part of an event store the outbox relay uses: the changes feed. `EventStore`, `Harpoon` and
 * `HarpoonClient` all satisfy it, so a relay can run beside the store or in a process of its own.
 *
 * @module
 */
import type { FeedPage } from '../events/model.js';
import type { FollowOptions } from '../store/follow.js';

/**
 * What an {@link OutboxRelay} reads: a subset of {@link EventStore}, implemented by
 * {@link EventStore}, {@link Harpoon} and {@link HarpoonClient}.
 */
export interface RelayStore {
  /** The latest feed position (for the relay's lag). */
  head(): Promise<number>;
  /** Follow the changes feed from `cursor` until `options.signal` aborts. */
  follow(cursor: number, options?: FollowOptions): AsyncIterable<FeedPage>;
  /** Optional: true once the store is closed, when the relay stops instead of retrying. */
  readonly closed?: boolean;
  /**
   * Optional: the store's size limits; with them the relay warns at start when the bus carries
   * smaller messages than the store accepts (those changes would be parked).
   */
  readonly limits?: { readonly maxPayloadBytes: number };
}
