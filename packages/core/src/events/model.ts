/**
 * The event as stored, and the inputs that create and change it.
 *
 * @module
 */
import type { EventStatus } from './status.js';
import type { TraceContext } from './trace-context.js';

/** Any value JSON can carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One event as the store holds it. `P` is the payload type of its event type. */
export interface StoredEvent<T extends string = string, P = unknown> {
  /** Monotonically increasing id, assigned by the store. */
  readonly id: number;
  /** The event type (registered with a payload schema). */
  readonly type: T;
  /** The payload, already validated against the type's schema. */
  readonly payload: P;
  /** The region the event belongs to. */
  readonly region: string;
  /** The server the event is placed on; null until placed. */
  readonly serverId: string | null;
  /** Lifecycle status. */
  readonly status: EventStatus;
  /** How many times a lease on this event was granted. */
  readonly attempts: number;
  /** Who holds the lease, or null. */
  readonly leaseOwner: string | null;
  /** When the lease runs out, or null. */
  readonly leaseExpiresAt: Date | null;
  /** The caller's idempotency key, or null. */
  readonly idempotencyKey: string | null;
  /** Why the event failed or was cancelled, or null. */
  readonly error: string | null;
  /** What the work produced when done, or null. */
  readonly result: JsonValue | null;
  /** Bumped by every change; the compare-and-set token. */
  readonly version: number;
  /** Position of the event's latest change in the changes feed. */
  readonly seq: number;
  /** When the event was appended. */
  readonly createdAt: Date;
  /** When the event last changed. */
  readonly updatedAt: Date;
  /**
   * The W3C trace context of the caller that created the event, or null. Set once by the append
   * and kept by every transition, so the work the event causes can join the caller's trace.
   */
  readonly traceContext: TraceContext | null;
}

/** An event to append. */
export interface NewEvent<T extends string = string, P = unknown> {
  /** A registered event type. */
  type: T;
  /** The payload; validated against the type's schema. */
  payload: P;
  /** The region the event belongs to. */
  region: string;
  /** Place the event directly on a server (skips the scheduler), status `placed`. */
  serverId?: string | null;
  /** A retried append with the same key returns the original event instead of a new one. */
  idempotencyKey?: string | null;
  /**
   * The W3C trace context to store with the event. Omitted, the append records the active
   * OpenTelemetry span's context when `@opentelemetry/api` is installed and a span is active (null
   * otherwise); null stores none.
   */
  traceContext?: TraceContext | null;
}

/** A compare-and-set change of status. Give `version`, `from`, or both. */
export interface TransitionInput {
  /** The event to change. */
  id: number;
  /** The status to move to. */
  to: EventStatus;
  /** Expected current version; a mismatch is a `ConflictError`. */
  version?: number;
  /** Expected current status (or one of several); a mismatch is a `ConflictError`. */
  from?: EventStatus | readonly EventStatus[];
  /** Required when moving to `placed`: the chosen server. */
  serverId?: string;
  /** When set, the current lease must belong to this owner. */
  leaseOwner?: string;
  /** Why, for `failed` and `cancelled`. */
  error?: string;
  /** What the work produced, for `done`. */
  result?: JsonValue;
}

/** The outcome of one transition in a batch. */
export type TransitionOutcome =
  | { readonly ok: true; readonly event: StoredEvent }
  | { readonly ok: false; readonly error: Error };

/** Which events to claim. */
export interface ClaimFilter {
  /**
   * `placed` (default): work placed on a server; a claim moves it to `claimed`. Events in `claimed`
   * or `running` whose lease expired are claimable again. `pending`: scheduler intake; the claim
   * grants a lease and the status stays `pending` until the event is placed.
   */
  status?: 'pending' | 'placed';
  /** Only these types. */
  types?: readonly string[];
  /** Only this region. */
  region?: string;
  /** Only this server. */
  serverId?: string;
}

/** A claim request. */
export interface ClaimInput extends ClaimFilter {
  /** Who takes the lease (a worker or scheduler instance id). */
  owner: string;
  /** How many events at most. */
  limit: number;
  /** How long the lease lasts, in milliseconds. */
  leaseMs: number;
}

/** A query over events. Results come in ascending id order. */
export interface EventQuery {
  /** Only these statuses. */
  status?: EventStatus | readonly EventStatus[];
  /** Only this type. */
  type?: string;
  /** Only this server. */
  serverId?: string;
  /** Only this region. */
  region?: string;
  /** Page size (default 100, at most 1,000). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
}

/** One page of a query. */
export interface EventPage<E = StoredEvent> {
  /** The events of this page. */
  readonly events: readonly E[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** One read of the changes feed. */
export interface FeedPage<E = StoredEvent> {
  /** Changed events in feed order, each with its latest state. */
  readonly events: readonly E[];
  /** The feed position after this page: pass it to the next read. */
  readonly cursor: number;
  /**
   * True when the page was cut short of `limit` (over HTTP, by the server's `maxResponseBytes`)
   * while more changes are waiting: read on from `cursor` at once. Absent or false, a page shorter
   * than `limit` means the reader caught up.
   */
  readonly more?: boolean;
}

/** Filters of the changes feed. */
export interface FeedFilter {
  /** Only this region. */
  region?: string;
  /** Only this server. */
  serverId?: string;
  /** Only these statuses. */
  status?: EventStatus | readonly EventStatus[];
}
