/**
 * Why a router or an agent closed a connection: a stable name per reason and a numeric close code
 * (WebSocket private-use range 4000–4999) so every transport carries it the same way.
 *
 * @module
 */

/** Every reason a router or agent closes a connection on purpose, with its close code. */
export const CLOSE_CODES = {
  /** The token is malformed, signed with an unknown key, or its signature does not match. */
  unauthorized: 4001,
  /** The token has expired (or is not valid yet). */
  'token-expired': 4002,
  /** The token is valid but for another server or region than the agent claims or the router serves. */
  forbidden: 4003,
  /** A frame was not valid JSON, failed its schema, or was too large. */
  'protocol-error': 4004,
  /** The agent fell behind past its send-buffer limit; it resumes from its cursor. */
  'slow-consumer': 4005,
  /** A newer connection for the same server replaced this one. */
  replaced: 4006,
  /** Nothing was heard from the peer for too long. */
  'idle-timeout': 4007,
  /** The router is shutting down; reconnect to another. */
  shutdown: 4008,
  /** The agent did not say hello in time. */
  'hello-timeout': 4009,
  /** The router serves its maximum number of agents or its query queue is full; try another. */
  capacity: 4010,
  /** The agent is stopping. */
  'agent-stopped': 4011,
  /** The agent sent frames faster than `maxFramesPerSecond`; it reconnects after its backoff. */
  'rate-limited': 4012,
} as const;

/** A named reason for closing a connection. */
export type CloseReason = keyof typeof CLOSE_CODES;

/** Any reason a connection ended: a named close, or the network dropped it. */
export type DisconnectReason = CloseReason | 'connection-lost' | 'closed-by-peer';

/** Reasons after which reconnecting with the same credentials cannot succeed. */
export const AUTH_CLOSE_REASONS: readonly CloseReason[] = ['unauthorized', 'token-expired', 'forbidden'];

const BY_CODE = new Map<number, CloseReason>(
  Object.entries(CLOSE_CODES).map(([name, code]) => [code, name as CloseReason]),
);

/** WebSocket codes for frames the transport itself refused (protocol error, bad data, too big). */
const TRANSPORT_PROTOCOL_CODES = new Set([1002, 1003, 1007, 1009]);

/**
 * The reason behind a close code: a named reason; `protocol-error` for a frame the transport
 * refused; `closed-by-peer` for a normal close; else `connection-lost`.
 */
export function closeReasonOf(code: number): DisconnectReason {
  const named = BY_CODE.get(code);
  if (named) return named;
  if (TRANSPORT_PROTOCOL_CODES.has(code)) return 'protocol-error';
  return code === 1000 || code === 1001 ? 'closed-by-peer' : 'connection-lost';
}
