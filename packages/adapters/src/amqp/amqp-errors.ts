/**
 * amqplib errors mapped once onto ctlplane's typed errors, with secrets masked.
 *
 * @module
 */
import {
  ConflictError,
  type CtlplaneError,
  isCtlplaneError,
  maskSecrets,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from '@ctlplane/core';

/** AMQP reply codes the adapter treats specially. */
const ACCESS_REFUSED = 403;
const NOT_FOUND = 404;
const RESOURCE_LOCKED = 405;
const PRECONDITION_FAILED = 406;
const NOT_ALLOWED = 530;

/** @internal The message of any thrown value, secrets masked. */
export function errorMessage(err: unknown): string {
  return maskSecrets(err instanceof Error ? err.message || err.name : String(err));
}

/** @internal Map an amqplib or socket error onto a ctlplane error. */
export function mapAmqpError(err: unknown, what: string): CtlplaneError {
  if (isCtlplaneError(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = `${what}: ${errorMessage(err)}`;
  if (code === ACCESS_REFUSED || code === NOT_ALLOWED || /\b(403|530)\b/.test(message)) {
    return new UnauthorizedError(message);
  }
  if (code === PRECONDITION_FAILED || code === RESOURCE_LOCKED) {
    return new ConflictError(message, { amqpCode: code }, { cause: err });
  }
  if (code === NOT_FOUND) return new NotFoundError(message, { cause: err });
  return new UnavailableError(message, { cause: err, transient: true });
}

/** @internal True for errors retrying cannot fix: bad credentials, conflicting declarations. */
export function isPermanent(err: unknown): boolean {
  return isCtlplaneError(err, 'UNAUTHORIZED') || isCtlplaneError(err, 'CONFLICT');
}
