/**
 * What an agent is told about each acknowledgement. Only the router's own words reach an agent:
 * a store error's text can name database accounts, hosts, schemas and tables, so it goes to the
 * router's log and the agent gets the code with a fixed message.
 *
 * @internal
 * @module
 */
import { isCtlplaneError } from '../errors.js';
import type { TransitionOutcome } from '../events/model.js';
import type { AckFrameItem, AckResult } from './protocol.js';

/** @internal Every code an agent may be answered with, and its message. */
export const ACK_MESSAGES = {
  /** The event is not on the agent's server, in the router's region, or does not exist: one answer for all. */
  UNAUTHORIZED: 'event is not on this server',
  /** A queue of the router is full; send again. */
  BUSY: 'router is busy; send again',
  /** The store could not be reached or failed; send again. */
  UNAVAILABLE: 'store unavailable; send again',
  /** The event's status does not allow this acknowledgement (`actual` says what it is). */
  CONFLICT: 'event is not in a status this acknowledgement applies to',
  /** The acknowledgement's values were refused (the router's own check names the field and rule). */
  VALIDATION: 'the store refused the values of this acknowledgement',
} as const;

/** @internal */
export type AckCode = keyof typeof ACK_MESSAGES;

/** @internal A refused acknowledgement. */
export function refusal(ack: AckFrameItem, code: AckCode, message: string = ACK_MESSAGES[code]): AckResult {
  return { id: ack.id, status: ack.status, ok: false, code, message };
}

/** @internal The code an agent gets for a store error. A missing event reads as another server's. */
export function ackCodeOf(err: unknown): AckCode {
  if (!isCtlplaneError(err)) return 'UNAVAILABLE';
  switch (err.code) {
    case 'CONFLICT':
    case 'VALIDATION':
    case 'BUSY':
      return err.code;
    case 'NOT_FOUND':
    case 'UNAUTHORIZED':
      return 'UNAUTHORIZED';
    default:
      return 'UNAVAILABLE';
  }
}

/** @internal The answer to an acknowledgement whose whole batch failed. */
export function batchFailure(ack: AckFrameItem, err: Error): AckResult {
  const code = ackCodeOf(err);
  return refusal(ack, code === 'VALIDATION' || code === 'BUSY' ? code : 'UNAVAILABLE');
}

/** @internal The answer to an acknowledgement the store decided. */
export function outcomeResult(ack: AckFrameItem, outcome: TransitionOutcome | undefined): AckResult {
  if (!outcome) return refusal(ack, 'UNAVAILABLE');
  if (outcome.ok) return { id: ack.id, status: ack.status, ok: true, actual: outcome.event.status };
  const details = (outcome.error as { details?: { actual?: unknown } }).details;
  const actual = typeof details?.actual === 'string' ? (details.actual as AckResult['actual']) : undefined;
  // A redelivered event the agent starts again is already running: that is success.
  if (ack.status === 'running' && actual === 'running')
    return { id: ack.id, status: ack.status, ok: true, actual };
  const code = ackCodeOf(outcome.error);
  if (code === 'CONFLICT' && actual) return { ...refusal(ack, code, `event is ${actual}`), actual };
  return refusal(ack, code);
}
