/**
 * Typed errors shared by every ctlplane package. Check them by `code` (it survives two copies of
 * the package in one process) or with `instanceof` when there is one copy.
 *
 * @module
 */

/** Every error code ctlplane throws. */
export const ERROR_CODES = [
  'VALIDATION',
  'CONFLICT',
  'NOT_FOUND',
  'CLOSED',
  'UNAVAILABLE',
  'BUSY',
  'UNAUTHORIZED',
  'UNSUPPORTED',
] as const;

/** One of {@link ERROR_CODES}. */
export type CtlplaneErrorCode = (typeof ERROR_CODES)[number];

/** Base class of every error ctlplane throws on purpose. */
export class CtlplaneError extends Error {
  /** Stable machine-readable code. */
  readonly code: CtlplaneErrorCode;

  /**
   * @param code - stable error code
   * @param message - human-readable message (never contains secrets)
   * @param options - the underlying cause, when there is one
   */
  constructor(code: CtlplaneErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One failed rule of an input: the dotted path of the field and what it broke. */
export interface ValidationIssue {
  /** Dotted path of the field, e.g. `payload.vcpus`; empty for the input as a whole. */
  path: string;
  /** The rule it broke, in words. */
  message: string;
}

/** Bad input: names each field and the rule it broke. Nothing was written. */
export class ValidationError extends CtlplaneError {
  /** Every failed rule. */
  readonly issues: readonly ValidationIssue[];

  /**
   * @param message - summary; by default built from the issues
   * @param issues - each failed field and rule
   */
  constructor(message: string, issues: readonly ValidationIssue[] = [], options?: { cause?: unknown }) {
    super('VALIDATION', message, options);
    this.issues = issues;
  }
}

/**
 * A message a bus can never publish as it is: a body over `maxMessageBytes`, a routing key over
 * 255 bytes, bad headers, or refused by the broker as it is. A `ValidationError` (code
 * `VALIDATION`) marked `unpublishable`; only this mark makes a publish failure permanent (see
 * `isUnpublishable`): any other failure of a publish, a plain `ValidationError` included, may be
 * cured by a retry.
 */
export class UnpublishableError extends ValidationError {
  /** The mark `isUnpublishable` checks; a property, so it survives two copies of the package. */
  readonly unpublishable = true as const;

  /**
   * @param message - which message and why it can never be published
   * @param issues - each failed field and rule
   */
  constructor(message: string, issues: readonly ValidationIssue[] = [], options?: { cause?: unknown }) {
    super(message, issues, options);
  }

  /** The same failure, marked unpublishable (`err` itself when it already is). */
  static from(err: ValidationError): UnpublishableError {
    if (err instanceof UnpublishableError) return err;
    return new UnpublishableError(err.message, err.issues, { cause: err.cause });
  }
}

/** A compare-and-set lost its race, a lease is held by someone else, or a transition is illegal. */
export class ConflictError extends CtlplaneError {
  /**
   * @param message - what conflicted
   * @param details - the expected and actual state, for callers that retry
   */
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super('CONFLICT', message, options);
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends CtlplaneError {
  /** @param message - what was not found */
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options);
  }
}

/** The component was closed; no further calls are accepted. */
export class ClosedError extends CtlplaneError {
  /** @param what - the component that is closed */
  constructor(what: string) {
    super('CLOSED', `${what} is closed`);
  }
}

/**
 * A backing service (database, broker, peer) is unreachable or failed. `transient` is true when the
 * operation certainly had no effect (a deadlock, a lock wait timeout, a connection lost before
 * commit) and may be retried as is.
 */
export class UnavailableError extends CtlplaneError {
  /** True when retrying the same call is safe and likely to succeed. */
  readonly transient: boolean;

  /**
   * @param message - what is unavailable
   * @param options - the cause, and whether the failure is transient (default false)
   */
  constructor(message: string, options?: { cause?: unknown; transient?: boolean }) {
    super('UNAVAILABLE', message, options);
    this.transient = options?.transient ?? false;
  }
}

/** A bounded queue or buffer is full: back off and retry after `retryAfterMs`. */
export class BusyError extends CtlplaneError {
  /**
   * @param message - which limit was hit
   * @param retryAfterMs - a suggested delay before retrying
   */
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super('BUSY', message, options);
  }
}

/**
 * Missing, expired, forged or out-of-scope credentials: a caller refused by ctlplane, or ctlplane
 * refused by a backend (a broker or database that rejects its user, password, virtual host or
 * privileges). Retrying the same call cannot succeed.
 */
export class UnauthorizedError extends CtlplaneError {
  /**
   * @param message - why access was refused (never echoes the credential)
   * @param options - the underlying cause, when there is one
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAUTHORIZED', message, options);
  }
}

/** The backend cannot do what was asked (for example a database server that is too old). */
export class UnsupportedError extends CtlplaneError {
  /** @param message - what is unsupported */
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNSUPPORTED', message, options);
  }
}

/** True when `err` is a ctlplane error with the given code, even across two copies of the package. */
export function isCtlplaneError(err: unknown, code?: CtlplaneErrorCode): err is CtlplaneError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  if (!(err instanceof Error) || !ERROR_CODES.includes(c as CtlplaneErrorCode)) return false;
  return code === undefined || c === code;
}
