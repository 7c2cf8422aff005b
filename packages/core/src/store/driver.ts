/**
 * The port every EventStore backend implements. Inputs arrive already validated by
 * `EventStore`; a driver owns storage, atomicity and locking, nothing else.
 *
 * @module
 */
import type {
  ClaimInput,
  EventPage,
  FeedFilter,
  FeedPage,
  JsonValue,
  StoredEvent,
  TransitionInput,
  TransitionOutcome,
} from '../events/model.js';
import type { EventStatus } from '../events/status.js';
import type { TraceContext } from '../events/trace-context.js';

/** One validated event to append. */
export interface AppendRecord {
  /** A registered type. */
  readonly type: string;
  /** The parsed payload. */
  readonly payload: JsonValue;
  /** The region. */
  readonly region: string;
  /** The server, when placed directly. */
  readonly serverId: string | null;
  /** `pending`, or `placed` when `serverId` is set. */
  readonly status: Extract<EventStatus, 'pending' | 'placed'>;
  /** The caller's idempotency key. */
  readonly idempotencyKey: string | null;
  /** The W3C trace context to store with the event (validated), or null. */
  readonly traceContext: TraceContext | null;
}

/** A validated query: statuses normalised to a list, limit set. */
export interface DriverQuery {
  /** Allowed statuses; empty means any. */
  readonly statuses: readonly EventStatus[];
  /** Only this type. */
  readonly type?: string | undefined;
  /** Only this server. */
  readonly serverId?: string | undefined;
  /** Only this region. */
  readonly region?: string | undefined;
  /** Page size. */
  readonly limit: number;
  /** Return ids greater than this. */
  readonly afterId: number;
}

/** What a backend can do beyond the common contract; gates backend-only tests. */
export interface DriverCapabilities {
  /** Several processes may share the store. */
  readonly multiProcess: boolean;
  /** Data survives a restart of the process. */
  readonly durable: boolean;
  /**
   * Write calls (append, transition, claim) the backend serves best at once; the `EventStore`
   * queues more in the process, first in, first out. Unset: no limit. The MySQL backend sets it
   * because its writes take turns on the feed counter: more writers waiting inside the database
   * cost it more than they gain (measured by `npm run bench -- store-write-concurrency`).
   */
  readonly writeConcurrency?: number;
}

/** The storage backend behind an `EventStore`. */
export interface EventStoreDriver {
  /** Short backend name for logs, e.g. `memory`, `mysql`. */
  readonly name: string;
  /** What this backend can do. */
  readonly capabilities: DriverCapabilities;
  /** Append atomically; a record whose idempotency key exists yields the stored event instead. */
  append(records: readonly AppendRecord[]): Promise<StoredEvent[]>;
  /** The event with this id, or null. */
  get(id: number): Promise<StoredEvent | null>;
  /** Events matching the query in ascending id order. */
  query(query: DriverQuery): Promise<EventPage>;
  /** Apply each transition independently (one outcome per input, in order). */
  transition(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]>;
  /** Claim up to `limit` claimable events for `owner`. */
  claim(input: ClaimInput): Promise<StoredEvent[]>;
  /** Extend a lease held by `owner`. */
  renew(id: number, owner: string, leaseMs: number): Promise<StoredEvent>;
  /** Give a lease back so the event is claimable again at once. */
  release(id: number, owner: string): Promise<StoredEvent>;
  /** Events whose latest change is after `cursor`, in feed order. */
  readFeed(cursor: number, limit: number, filter: FeedFilter): Promise<FeedPage>;
  /** The latest feed position (0 when empty). */
  head(): Promise<number>;
  /** Delete up to `limit` terminal events last changed before `before`; returns how many. */
  prune(before: Date, limit: number): Promise<number>;
  /** Subscribe to "something committed" signals from this process; returns an unsubscribe. */
  onCommit(listener: () => void): () => void;
  /** Release every resource. Called once. */
  close(): Promise<void>;
}
