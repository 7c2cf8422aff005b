/**
 * Maps mysql2 errors onto ctlplane's typed errors, once, for every MySQL backend.
 *
 * @module
 */
import {
  ConflictError,
  maskSecrets,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '@ctlplane/core';

/**
 * Deadlock and lock wait timeout: the transaction was rolled back; retrying is safe. On Galera a
 * certification failure or a transaction aborted for a replicated write also comes back as 1213.
 */
const RETRYABLE_ERRNOS = new Set([1213, 1205]);
/**
 * Galera's ER_UNKNOWN_COM_ERROR, "WSREP has not yet prepared node for application use": the node
 * is not part of the primary component (joining, donor, or cut off) and ran nothing; another node,
 * or this one later, can take the statement.
 */
const GALERA_NOT_READY = 1047;
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
/**
 * Refused credentials or privileges: ER_DBACCESS_DENIED (1044), ER_ACCESS_DENIED (1045),
 * ER_TABLEACCESS_DENIED (1142), ER_SPECIFIC_ACCESS_DENIED (1227), ER_ACCESS_DENIED_NO_PASSWORD
 * (1698). Checked before the connection errors: a refused handshake is `fatal`, and retrying it
 * cannot help.
 */
const ACCESS_DENIED_ERRNOS = new Set([1044, 1045, 1142, 1227, 1698]);
/** ER_NO_SUCH_TABLE: the schema was never migrated (or another table prefix was). */
const NO_SUCH_TABLE = 1146;

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
  if (e?.errno !== undefined && ACCESS_DENIED_ERRNOS.has(e.errno)) {
    return new UnauthorizedError(`${operation}: the database refused access: ${detail}`, { cause: err });
  }
  if (e?.errno === NO_SUCH_TABLE) {
    return new UnavailableError(
      `${operation}: ${detail}: the schema is not migrated for this table prefix; run ` +
        '`npx ctlplane migrate --url <url> --prefix <prefix>` (or `migrate()` from @ctlplane/adapters/mysql) first',
      { cause: err },
    );
  }
  if (e?.errno !== undefined && RETRYABLE_ERRNOS.has(e.errno)) {
    return new UnavailableError(`${operation}: ${detail}`, { cause: err, transient: true });
  }
  if (e?.errno === GALERA_NOT_READY) {
    return new UnavailableError(`${operation}: the Galera node is not ready for queries: ${detail}`, {
      cause: err,
      transient: true,
    });
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
