/**
 * Pages of events bounded in bytes as well as in count. `limit` counts events, and events can be
 * large (a 1,000-event page of 1 MB events is 1 GB: it failed with "Invalid string length" and
 * could never be read). A page is read in chunks, each event serialized once as it is added, and
 * stops before the event that would pass the byte budget, with the position to continue from.
 * The first event always goes in, whatever its size, so every page makes progress.
 *
 * The first read is small; later ones are sized from the average event size seen so far, so a
 * page of small events costs one or two reads and a page of huge events never loads far more than
 * it sends.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { toWireEvent } from '../../events/wire.js';

/**
 * @internal Events in the first read of a page. Small, because nothing is known of their size
 * yet: 32 events of 500 kB read 16 MB to send 8 MiB. The cost: a page that finds 8 to 31 events
 * takes two reads where 32 took one (more than 32 took two either way; fewer than 8, one).
 */
export const FIRST_CHUNK = 8;
/**
 * @internal Milliseconds of serializing after which a page lets other work run: a page of large
 * events took 50–100 ms to serialize in one go, and every other caller of the server waited.
 */
export const SLICE_MS = 4;
/** @internal Reads per page at most; past it the page ends early (`cut`), the caller reads on. */
export const MAX_CHUNKS = 16;

/** @internal One read: its events, the position after it, and whether the source has no more now. */
export interface Chunk<E, P> {
  readonly events: readonly E[];
  readonly next: P;
  readonly end: boolean;
}

/** @internal What a bounded page read needs. */
export interface PageSource<E, P> {
  /** Read up to `limit` events after `from`. */
  read(from: P, limit: number): Promise<Chunk<E, P>>;
  /** The position just after `event`: where a page cut after it continues. */
  after(event: E): P;
}

/** @internal A page: the events' JSON, where to continue, and whether it was cut short. */
export interface BoundedPage<P> {
  /** Each event's JSON as UTF-8, in order (written as an array without joining them: see reply.ts). */
  readonly events: readonly Buffer[];
  readonly count: number;
  readonly next: P;
  /** True when the byte budget (or `MAX_CHUNKS`) ended the page before `limit` and before the end. */
  readonly cut: boolean;
}

/**
 * @internal Read up to `limit` events from `from` into at most `maxBytes` of JSON (one event
 * always). Stops with the signal's reason between reads once `signal` aborts (the caller left).
 */
export async function readBoundedPage<E extends { createdAt: Date }, P>(
  source: PageSource<E, P>,
  from: P,
  limit: number,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<BoundedPage<P>> {
  const parts: Buffer[] = [];
  let bytes = 2;
  let at = from;
  let ask = Math.min(limit, FIRST_CHUNK);
  const page = (cut: boolean): BoundedPage<P> => ({
    events: parts,
    count: parts.length,
    next: at,
    cut,
  });
  let sliceStart = 0;
  for (let reads = 1; ; reads++) {
    signal?.throwIfAborted();
    const chunk = await source.read(at, ask);
    sliceStart = performance.now();
    for (const event of chunk.events) {
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldTurn();
        sliceStart = performance.now();
      }
      // Encoded once here: its size is then known, and the socket writes these bytes as they are
      // (measuring the string, then encoding it for the socket, cost twice as much).
      const json = Buffer.from(JSON.stringify(toWireEvent(event as never)));
      const size = json.length + 1;
      if (parts.length > 0 && bytes + size > maxBytes) return page(true);
      parts.push(json);
      bytes += size;
      at = source.after(event);
    }
    at = chunk.next;
    if (chunk.end || parts.length >= limit) return page(false);
    if (reads === MAX_CHUNKS) return page(true);
    const average = (bytes - 2) / Math.max(1, parts.length);
    ask = Math.max(1, Math.min(limit - parts.length, Math.floor((maxBytes - bytes) / average) + 1));
  }
}
