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
    return new UnauthorizedError(message, { cause: err });
  }
  if (code === PRECONDITION_FAILED || code === RESOURCE_LOCKED) {
    return new ConflictError(message, { amqpCode: code }, { cause: err });
  }
  if (code === NOT_FOUND) return new NotFoundError(message, { cause: err });
  return new UnavailableError(message, { cause: err, transient: true });
}

/**
 * amqplib's words when the broker answers `connection.open` with `connection.close`: RabbitMQ's
 * 530 NOT_ALLOWED for a virtual host that does not exist or that the user may not use. amqplib
 * keeps neither the code nor the text, only this.
 */
const OPEN_REFUSED = /Expected ConnectionOpenOk; got <ConnectionClose/;

/**
 * @internal Map a failed connection attempt to `url` (password masked). A refused virtual host is
 * an UnauthorizedError naming it: no retry can fix it.
 */
export function mapConnectError(err: unknown, url: string): CtlplaneError {
  if (OPEN_REFUSED.test(errorMessage(err))) {
    const vhost = (URL.canParse(url) && decodeURIComponent(new URL(url).pathname.slice(1))) || '/';
    return new UnauthorizedError(
      `connect to ${url}: the broker refused to open virtual host "${vhost}" (it does not exist, or the user may not use it)`,
      { cause: err },
    );
  }
  return mapAmqpError(err, `connect to ${url}`);
}

/** @internal True for errors retrying cannot fix: bad credentials, conflicting declarations. */
export function isPermanent(err: unknown): boolean {
  return isCtlplaneError(err, 'UNAUTHORIZED') || isCtlplaneError(err, 'CONFLICT');
}
