/**
 * The router's pluggable input: where it learns about changed events. Two are built in, polling
 * the store's changes feed ({@link StorePollInput}) and a pushed feed on the message bus
 * ({@link BusInput}); the router can switch between them while running, and agents see no
 * difference.
 *
 * @module
 */
import type { StoredEvent } from '../../events/model.js';

/** What a database query issued by the router is for (each kind is counted). */
export type RouterQueryKind = 'readFeed' | 'head' | 'query' | 'get' | 'transition';

/** What an input hands changes to. */
export interface RouterInputSink {
  /** The region the router serves: an input reads or subscribes to this region only. */
  readonly region: string;
  /**
   * Changed events, oldest change first, and the feed position after them when the input knows it
   * (a feed read does; a pushed message carries each event's own `seq`). Duplicates and stale
   * versions are dropped by the router, so an input may overlap.
   */
  deliver(events: readonly StoredEvent[], cursor?: number): void;
  /**
   * True when the router already has this version of the event or a newer one: an input may drop
   * such a change before parsing it further (an echo of an acknowledgement the router applied).
   */
  has(id: number, version: number): boolean;
  /** Run a database query through the router's gate: bounded concurrency, counted by kind. */
  query<T>(kind: RouterQueryKind, fn: () => Promise<T>): Promise<T>;
  /** Report a failure the input is recovering from (logged, counted and emitted by the router). */
  error(err: unknown): void;
}

/** A source of changed events for an {@link EventRouter}. */
export interface RouterInput {
  /** Short name for logs and events, e.g. `poll`, `bus`. */
  readonly kind: string;
  /** Start delivering every change after feed position `from`. Resolves once it is running. */
  start(sink: RouterInputSink, from: number): Promise<void>;
  /** Stop; after this resolves the input delivers nothing more. Idempotent. */
  stop(): Promise<void>;
}
