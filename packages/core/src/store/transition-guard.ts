/**
 * A transition as a compare-and-set that does not need the current row: the statuses, version and
 * lease owner the event must have for it to apply, and what it then writes. A database backend
 * turns it into one conditional UPDATE, decided by the statement that applies it; the rules are
 * those of {@link planTransition}, and a property test keeps the two in agreement.
 *
 * @module
 */
import type { JsonValue, StoredEvent, TransitionInput } from '../events/model.js';
import { canTransition, EVENT_STATUSES, type EventStatus, isTerminal } from '../events/status.js';

/** The compare-and-set form of one transition. */
export interface TransitionGuard {
  /** The statuses the event may be in for the transition to apply; empty: it never applies. */
  readonly from: readonly EventStatus[];
  /** The version the event must have, when the caller named one. */
  readonly version: number | undefined;
  /** The lease owner the event must have, when the caller named one. */
  readonly leaseOwner: string | undefined;
  /** The status written. */
  readonly status: EventStatus;
  /** The server written, or `undefined` to keep the current one. */
  readonly serverId: string | undefined;
  /** Clear the lease (terminal statuses and `placed` start without one). */
  readonly clearLease: boolean;
  /** The error written, or `undefined` to keep the current one. */
  readonly error: string | undefined;
  /** The result written, or `undefined` to keep the current one. */
  readonly result: JsonValue | undefined;
}

/**
 * The compare-and-set form of `input`. Where the row does not match, the transition is refused
 * (or is an idempotent no-op): `planTransition` on the row then tells which, with its error.
 */
export function transitionGuard(input: TransitionInput): TransitionGuard {
  const named =
    input.from === undefined ? undefined : typeof input.from === 'string' ? [input.from] : input.from;
  const placedWithoutServer = input.to === 'placed' && !input.serverId;
  const from = placedWithoutServer
    ? []
    : EVENT_STATUSES.filter((s) => canTransition(s, input.to) && (named === undefined || named.includes(s)));
  return {
    from,
    version: input.version,
    leaseOwner: input.leaseOwner,
    status: input.to,
    serverId: input.to === 'placed' ? input.serverId : undefined,
    clearLease: isTerminal(input.to) || input.to === 'placed',
    error: input.error,
    // As in planTransition, a null result keeps the current one.
    result: input.result ?? undefined,
  };
}

/** The position and time a backend gave the change when it applied a guard. */
export interface GuardApplied {
  /** The change's feed position. */
  readonly seq: number;
  /** The transaction's clock. */
  readonly now: Date;
}

/**
 * What the conditional UPDATE of `guard` makes of the row `event` (as read before it, under its
 * lock): the event after the transition, or `null` when the guard does not match the row. A
 * backend that read its rows before writing them uses it instead of reading them again.
 */
export function applyTransitionGuard(
  guard: TransitionGuard,
  event: StoredEvent,
  applied: GuardApplied,
): StoredEvent | null {
  if (!guard.from.includes(event.status)) return null;
  if (guard.version !== undefined && guard.version !== event.version) return null;
  if (guard.leaseOwner !== undefined && guard.leaseOwner !== event.leaseOwner) return null;
  return {
    ...event,
    status: guard.status,
    serverId: guard.serverId ?? event.serverId,
    leaseOwner: guard.clearLease ? null : event.leaseOwner,
    leaseExpiresAt: guard.clearLease ? null : event.leaseExpiresAt,
    error: guard.error ?? event.error,
    result: guard.result ?? event.result,
    version: event.version + 1,
    seq: applied.seq,
    updatedAt: applied.now,
  };
}
