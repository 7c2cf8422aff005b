/**
 * The one place that decides whether a transition may be applied to an event's current state.
 * Every driver calls it inside its transaction, so the rules cannot drift between backends.
 *
 * @module
 */
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { JsonValue, StoredEvent, TransitionInput } from '../events/model.js';
import { canTransition, isTerminal } from '../events/status.js';

/** What a driver must write for an accepted transition. */
export interface TransitionPlan {
  /** `noop`: the event is already in the requested terminal status (idempotent completion). */
  readonly kind: 'apply' | 'noop';
  /** Values to write when `kind` is `apply`. */
  readonly changes: {
    readonly status: StoredEvent['status'];
    readonly serverId: string | null;
    readonly leaseOwner: string | null;
    readonly leaseExpiresAt: Date | null;
    readonly error: string | null;
    readonly result: JsonValue | null;
  };
}

/**
 * Decide a transition against the current row, or return the typed error to report.
 * A repeated move to the terminal status the event already has is a no-op, never an error, so a
 * redelivered completion is harmless.
 */
export function planTransition(current: StoredEvent | null, input: TransitionInput): TransitionPlan | Error {
  if (!current) return new NotFoundError(`event ${input.id} not found`);
  const keep = {
    status: current.status,
    serverId: current.serverId,
    leaseOwner: current.leaseOwner,
    leaseExpiresAt: current.leaseExpiresAt,
    error: current.error,
    result: current.result,
  };
  if (current.status === input.to && isTerminal(current.status)) return { kind: 'noop', changes: keep };
  const from =
    input.from === undefined ? undefined : typeof input.from === 'string' ? [input.from] : input.from;
  if (from && !from.includes(current.status)) {
    return new ConflictError(`event ${input.id} is ${current.status}, expected ${from.join(' or ')}`, {
      id: input.id,
      expected: from,
      actual: current.status,
    });
  }
  if (input.version !== undefined && input.version !== current.version) {
    return new ConflictError(
      `event ${input.id} is at version ${current.version}, expected ${input.version}`,
      {
        id: input.id,
        expected: input.version,
        actual: current.version,
      },
    );
  }
  if (!canTransition(current.status, input.to)) {
    return new ConflictError(`illegal transition ${current.status} → ${input.to} for event ${input.id}`, {
      id: input.id,
      from: current.status,
      to: input.to,
    });
  }
  if (input.leaseOwner !== undefined && current.leaseOwner !== input.leaseOwner) {
    return new ConflictError(`event ${input.id}: lease is held by another owner`, { id: input.id });
  }
  if (input.to === 'placed' && !input.serverId) {
    return new ValidationError('serverId: required when moving to placed', [
      { path: 'serverId', message: 'required when moving to placed' },
    ]);
  }
  const terminal = isTerminal(input.to);
  return {
    kind: 'apply',
    changes: {
      status: input.to,
      serverId: input.to === 'placed' ? (input.serverId ?? null) : current.serverId,
      // A placed event starts without a lease; terminal events drop theirs.
      leaseOwner: terminal || input.to === 'placed' ? null : current.leaseOwner,
      leaseExpiresAt: terminal || input.to === 'placed' ? null : current.leaseExpiresAt,
      error: input.error ?? current.error,
      result: input.result ?? current.result,
    },
  };
}
