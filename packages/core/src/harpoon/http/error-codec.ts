/**
 * Typed errors over HTTP: one JSON shape and status per error code, and back again.
 *
 * @module
 */
import {
  BusyError,
  ClosedError,
  ConflictError,
  type CtlplaneErrorCode,
  isCtlplaneError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedError,
  ValidationError,
  type ValidationIssue,
} from '../../errors.js';
import { maskSecrets } from '../../logger.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    code: CtlplaneErrorCode | 'INTERNAL';
    message: string;
    issues?: readonly ValidationIssue[];
    retryAfterMs?: number;
    /** For `UNAVAILABLE`: true when the call certainly had no effect and may be retried as is. */
    transient?: boolean;
  };
}

/**
 * What callers read instead of a backing service's own error text, which names database
 * accounts, hosts, schemas and tables; the server logs the original.
 */
const UNAVAILABLE_MESSAGE = {
  transient: 'a backing service is unavailable; nothing was written, retry later',
  other: 'a backing service failed; the outcome may be unknown (details are in the server log)',
};

const STATUS: Record<CtlplaneErrorCode | 'INTERNAL', number> = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  BUSY: 429,
  CLOSED: 503,
  UNAVAILABLE: 503,
  UNSUPPORTED: 501,
  INTERNAL: 500,
};

/** @internal HTTP status and body for an error; internals and backing services' texts are not leaked. */
export function encodeError(err: unknown): { status: number; body: ErrorBody } {
  if (!isCtlplaneError(err)) {
    return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
  }
  const body: ErrorBody = { error: { code: err.code, message: maskSecrets(err.message) } };
  if (err instanceof ValidationError) body.error.issues = err.issues;
  if (err instanceof BusyError) body.error.retryAfterMs = err.retryAfterMs;
  if (err.code === 'UNAVAILABLE') {
    const transient = (err as { transient?: unknown }).transient === true;
    body.error.message = transient ? UNAVAILABLE_MESSAGE.transient : UNAVAILABLE_MESSAGE.other;
    body.error.transient = transient;
  }
  return { status: STATUS[err.code], body };
}

/** @internal The typed error an error response stands for. */
export function decodeError(status: number, body: unknown): Error {
  const e = (body as Partial<ErrorBody> | null)?.error;
  const message = typeof e?.message === 'string' ? e.message : `HTTP ${status}`;
  switch (e?.code) {
    case 'VALIDATION':
      return new ValidationError(message, Array.isArray(e.issues) ? e.issues : []);
    case 'CONFLICT':
      return new ConflictError(message);
    case 'NOT_FOUND':
      return new NotFoundError(message);
    case 'UNAUTHORIZED':
      return new UnauthorizedError(message);
    case 'BUSY':
      return new BusyError(message, typeof e.retryAfterMs === 'number' ? e.retryAfterMs : 100);
    case 'CLOSED':
      return new ClosedError(message.replace(/ is closed$/, ''));
    case 'UNSUPPORTED':
      return new UnsupportedError(message);
    default:
      return new UnavailableError(`Harpoon: ${message}`, {
        // Servers before `transient` was sent: a 502/503 was taken as transient.
        transient: typeof e?.transient === 'boolean' ? e.transient : status === 503 || status === 502,
      });
  }
}
