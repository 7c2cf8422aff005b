/**
 * Maps mysql2 errors onto ctlplane's typed errors, once, for every MySQL backend.
 *
 * @module
 */
import { ConflictError, maskSecrets, UnavailableError, ValidationError } from '@ctlplane/core';

/** Deadlock and lock wait timeout: the transaction was rolled back; retrying is safe. */
const RETRYABLE_ERRNOS = new Set([1213, 1205]);
/** The connection broke: safe to retry only if the commit was not yet sent. */
const CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  'ER_CON_COUNT_ERROR',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);
const CONNECTION_ERRNOS = new Set([1053, 1927, 1317, 1040, 2006, 2013, 4031]);

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
  fatal?: boolean;
}

/** @internal True when the error means the connection is gone. */
export function isConnectionError(err: unknown): boolean {
  const e = err as DriverError;
  return (
    (e?.code !== undefined && CONNECTION_CODES.has(e.code)) ||
    (e?.errno !== undefined && CONNECTION_ERRNOS.has(e.errno)) ||
    e?.fatal === true
  );
}

/**
 * @internal Map a driver error. `committing` is true when the failed call carried the COMMIT:
 * a lost connection then leaves the outcome unknown and must not be retried blindly.
 */
export function mapMysqlError(err: unknown, operation: string, committing = false): Error {
  const e = err as DriverError;
  const detail = maskSecrets(e?.message ?? String(err));
  if (e?.errno !== undefined && RETRYABLE_ERRNOS.has(e.errno)) {
    return new UnavailableError(`${operation}: ${detail}`, { cause: err, transient: true });
  }
  if (isConnectionError(err)) {
    return committing
      ? new UnavailableError(`${operation}: connection lost during commit; outcome unknown: ${detail}`, {
          cause: err,
        })
      : new UnavailableError(`${operation}: ${detail}`, { cause: err, transient: true });
  }
  if (e?.errno === 1062 && detail.includes('uq_idempotency_key')) {
    // Two appends raced on one idempotency key: the loser rolled back; its retry finds the winner.
    return new UnavailableError(`${operation}: concurrent append with the same idempotency key`, {
      cause: err,
      transient: true,
    });
  }
  if (e?.errno === 1062)
    return new ConflictError(`${operation}: duplicate key: ${detail}`, {}, { cause: err });
  if (e?.errno === 1406 || e?.errno === 1366 || e?.errno === 1264) {
    return new ValidationError(`${operation}: value rejected by the database: ${detail}`, [], { cause: err });
  }
  return new UnavailableError(`${operation}: ${detail}`, { cause: err });
}
