/**
 * The coalescing half of {@link HarpoonClient}: one `Batcher` per kind of write, whose batches
 * travel as `{ "each": [...] }` and come back one outcome per call. Bounds each request by the
 * server's body limit (envelope included), each call by its time budget (time queued behind
 * `maxInFlight` requests included), and re-sends a batch the server found too large as two halves.
 *
 * @module
 */
import { UnavailableError } from '../../errors.js';
import { Batcher } from '../batcher.js';
import type { HarpoonClientSettings } from './client-options.js';
import type { HttpAnswer } from './client-transport.js';
import { outcome, rawOutcomes } from './client-wire.js';
import { decodeError } from './error-codec.js';

/**
 * @internal Bytes of a coalesced body besides its items and their commas: `{"each":[` and `]}`
 * are 11; rounded up.
 */
export const EACH_ENVELOPE_BYTES = 16;

/** @internal Sends one request within `timeoutMs`; resolves with the answer whatever its status. */
export type PostJson = (path: string, body: string, timeoutMs: number) => Promise<HttpAnswer>;

/** A call's budget ran out while it waited for a request: it was never sent. */
function notSent(name: string, timeoutMs: number, waitedMs: number): UnavailableError {
  return new UnavailableError(
    `${name}: timed out after ${Math.round(waitedMs)} ms waiting for a request (timeoutMs ${timeoutMs}); nothing was sent`,
    { transient: true },
  );
}

/** @internal The coalescer of one kind of write (`path`), built from the client's settings. */
export function eachBatcher<O>(
  name: string,
  path: string,
  settings: HarpoonClientSettings,
  post: PostJson,
): Batcher<string, O> | null {
  const c = settings.coalesce;
  if (!c) return null;
  const { timeoutMs } = settings;

  /** One request for `items`, bounded by `deadline`; a 413 for several items is sent again in halves. */
  const send = async (items: readonly string[], deadline: number): Promise<(O | Error)[]> => {
    const left = deadline - performance.now();
    if (left <= 0) return items.map(() => notSent(name, timeoutMs, timeoutMs - left));
    const answer = await post(path, `{"each":[${items.join(',')}]}`, Math.ceil(left));
    // 413 is decided on the body's size before any item runs: halves are safe to send.
    if (answer.status === 413 && items.length > 1) {
      const half = Math.ceil(items.length / 2);
      const out: (O | Error)[] = [];
      // One after the other, each failing only its own calls (the second is sent even if the
      // first fails as a whole: its calls would otherwise get an error about a request they were
      // never part of).
      for (const part of [items.slice(0, half), items.slice(half)]) {
        out.push(...(await send(part, deadline).catch((err: unknown) => part.map(() => asError(err)))));
      }
      return out;
    }
    if (answer.status < 200 || answer.status > 299) throw decodeError(answer.status, answer.json);
    return outcomesOf(answer.json, items.length);
  };

  return new Batcher<string, O>({
    name,
    maxBatch: c.maxBatch,
    lingerMs: c.windowMs,
    concurrency: c.maxInFlight,
    maxPending: c.maxPending,
    // The items and one comma each must fit with the envelope in `maxBatchBytes`.
    maxBatchWeight: c.maxBatchBytes - EACH_ENVELOPE_BYTES,
    weigh: (json) => Buffer.byteLength(json) + 1,
    maxWaitMs: timeoutMs,
    expired: (waitedMs) => notSent(name, timeoutMs, waitedMs),
    run: (items, { deadline }) => send(items, deadline),
  });
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** One result per call: its event, or the typed error its own request would have got. */
function outcomesOf<O>(json: unknown, calls: number): (O | Error)[] {
  // Each outcome is parsed on its own: one malformed outcome fails its own call, not every call of
  // the request (the others' events were committed and deserve their answers).
  const parsed = rawOutcomes.safeParse(json);
  if (!parsed.success || parsed.data.outcomes.length !== calls) {
    const got = parsed.success ? `${parsed.data.outcomes.length} outcomes` : 'a malformed answer';
    throw new UnavailableError(`Harpoon answered ${got} to ${calls} coalesced calls`);
  }
  return parsed.data.outcomes.map((raw, i) => {
    const o = outcome.safeParse(raw);
    if (!o.success) {
      return new UnavailableError(
        `Harpoon's outcome ${i} of ${calls} coalesced calls is malformed; the call's effect is unknown`,
      );
    }
    return o.data.ok ? (o.data.event as O) : decodeError(0, o.data);
  });
}
