/**
 * The logger every component takes as an option. No-op by default; adapt pino, winston or the
 * console by implementing four methods and `child`.
 *
 * @module
 */

/** Structured fields attached to a log line. Never put secrets here. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A minimal structured logger. */
export interface Logger {
  /** Verbose diagnostics. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation. */
  info(message: string, fields?: LogFields): void;
  /** Something recoverable went wrong. */
  warn(message: string, fields?: LogFields): void;
  /** Something failed. */
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `scope` (e.g. `store`, `router:eu1`). */
  child(scope: string): Logger;
}

const noop = (): void => {};

/** A logger that drops everything: the default. */
export const noopLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
};

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * A logger that writes one JSON line per entry to stderr, at or above `level`.
 *
 * @example
 * ```ts
 * const log = consoleLogger('info').child('scheduler');
 * log.info('placed', { eventId: 1 });
 * ```
 */
export function consoleLogger(level: LogLevel = 'info', scope = 'ctlplane'): Logger {
  const min = LEVELS.indexOf(level);
  const write =
    (lvl: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (LEVELS.indexOf(lvl) < min) return;
      process.stderr.write(
        `${JSON.stringify({ t: new Date().toISOString(), level: lvl, scope, message, ...fields })}\n`,
      );
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (s) => consoleLogger(level, `${scope}:${s}`),
  };
}

/** Replace the password of any URL inside `text` with `***` before it is logged or thrown. */
export function maskSecrets(text: string): string {
  // The password runs to the last '@' of the authority, so a raw '@' inside it is hidden too.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^\s/?#]+)(@)/gi, '$1***$3');
}
