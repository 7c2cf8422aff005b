/**
 * A logger for tests that records the messages logged at error level and drops the rest.
 */
import type { Logger } from '@ctlplane/core';

/** A logger whose `error` messages land in `errors`. */
export function errorLog(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (m: string) => void errors.push(m),
    child: () => logger,
  };
  return { logger, errors };
}
