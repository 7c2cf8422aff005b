/**
 * Coalesced writes: one request carrying many callers' independent creates or transitions
 * (`{ "each": [...] }`), answered with one outcome per item. Each item runs exactly as its own
 * request would (the same parse, the same `Harpoon.create` / `Harpoon.transition`, so the same
 * typed error), and all of them are handed to Harpoon's group commit in the same turn of the event
 * loop, where they share its transactions with every other caller's writes.
 *
 * @module
 */
import { z } from 'zod';
import { isCtlplaneError, UnavailableError } from '../../errors.js';
import { maskSecrets } from '../../logger.js';
import { parseOrThrow } from '../../validation.js';
import type { Harpoon } from '../harpoon.js';
import { encodeError } from './error-codec.js';
import type { RateLimitedLog } from './peer-log.js';
import { MAX_HTTP_BATCH } from './server-options.js';

/** @internal The body of a coalesced write. */
export const eachBody = z.object({ each: z.array(z.unknown()).max(MAX_HTTP_BATCH) }).strict();

/** @internal One outcome on the wire: the item's answer, or the error body its own request would get. */
export type WireOutcome =
  | { ok: true; event: unknown }
  | ({ ok: false } & ReturnType<typeof encodeError>['body']);

/**
 * The database refusing Harpoon's own credentials is Harpoon's failure, not the caller's: as for a
 * single request (see dispatch.ts), an UNAVAILABLE with the generic message, never UNAUTHORIZED.
 */
function asItemError(err: unknown): unknown {
  if (!isCtlplaneError(err, 'UNAUTHORIZED')) return err;
  return new UnavailableError(`a backing service refused Harpoon's credentials: ${err.message}`, {
    cause: err,
  });
}

/**
 * @internal Run `one(item)` for every item of a coalesced body, all started in this turn, and
 * answer their outcomes in order; refused as a whole (`BusyError`) when Harpoon's queue of `kind`
 * has too little room for them. Items that failed on Harpoon's side (5xx) are logged as a failed
 * request would be; their callers get the generic message only.
 */
export async function runEach(
  harpoon: Harpoon,
  body: unknown,
  kind: 'create' | 'transition',
  one: (h: Harpoon, item: unknown) => Promise<unknown>,
  errors: RateLimitedLog | undefined,
  path: string,
): Promise<{ outcomes: WireOutcome[] }> {
  const { each } = parseOrThrow(eachBody, body, 'body');
  // All or none, before any item starts: 429 BUSY for the whole request when it would take more
  // than its share of the queue (see Harpoon.admit), never some items queued and others refused.
  harpoon.admit(kind, each.length);
  // `one` is async: each call runs up to its first await (parse, validate, queue) before the next
  // starts, so every item reaches the group commit's queue in this turn, before its linger fires.
  const settled = await Promise.allSettled(each.map((item) => one(harpoon, item)));
  const outcomes = settled.map((s): WireOutcome => {
    if (s.status === 'fulfilled') return { ok: true, event: s.value };
    const { status, body: failure } = encodeError(asItemError(s.reason));
    if (status >= 500) {
      const error = maskSecrets(s.reason instanceof Error ? s.reason.message : String(s.reason));
      errors?.error('batch item failed', { method: 'POST', path, status, error });
    }
    return { ok: false, ...failure };
  });
  return { outcomes };
}
