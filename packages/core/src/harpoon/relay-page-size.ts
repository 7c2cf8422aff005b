/**
 * How many changes the outbox relay reads at once, and how a page read is cut into publish rounds
 * of at most `maxPageBytes`. A page of 500 changes of 250 KB is 125 MB parsed and encoded at once
 * (with up to four rounds in flight): the process's memory grows by hundreds of MiB that the
 * allocator keeps, and every change behind it waits for the whole page.
 *
 * The store cannot read by bytes, so a read is sized by count: the first one as if every change
 * were as large as the store's limits allow (`maxPageBytes / maxEventMessageBytes`, 4 changes
 * with the defaults; the default payload limit when the store does not tell its own), later ones
 * from the average change of the page before. When large changes
 * follow small ones, a read can hold more than `maxPageBytes`; it is then cut into several
 * publish rounds, each within `maxPageBytes` (one change always goes), and the next read shrinks.
 *
 * @internal
 * @module
 */

import { checkJson } from '../events/json-check.js';
import type { StoredEvent } from '../events/model.js';

/** The JSON of a change besides its payload and result (names, dates, counters), a generous bound. */
const ENVELOPE_BYTES = 512;

/** JSON bytes of a change's message, counted without serialising it. */
function changeBytes(e: StoredEvent): number {
  let bytes = ENVELOPE_BYTES;
  for (const value of [e.payload, e.result, e.error]) {
    const check = checkJson(value, 'change');
    if (check.issue === null) bytes += check.bytes;
  }
  return bytes;
}

/** @internal One publish round: its changes and the feed position after them. */
export interface RelayRound {
  readonly events: readonly StoredEvent[];
  readonly cursor: number;
}

/** @internal The relay's read size, adjusted after every page, and its cut into rounds. */
export class RelayPageSize {
  readonly #maxBytes: number;
  readonly #maxCount: number;
  #next: number;

  /**
   * @param maxBytes - bytes of changes per publish round at most
   * @param maxCount - changes per read at most
   * @param largestChange - the largest change the store can hold, in bytes (sizes the first read)
   */
  constructor(maxBytes: number, maxCount: number, largestChange: number) {
    this.#maxBytes = maxBytes;
    this.#maxCount = maxCount;
    this.#next = Math.max(1, Math.min(maxCount, Math.floor(maxBytes / largestChange)));
  }

  /** Changes to read next. */
  next(): number {
    return this.#next;
  }

  /**
   * Cut a page just read into rounds of at most `maxBytes` each (one change always goes), and
   * size the next read from it. `cursor` is the page's: the last round ends there.
   */
  cut(events: readonly StoredEvent[], cursor: number): RelayRound[] {
    if (events.length === 0) return [{ events, cursor }];
    const rounds: RelayRound[] = [];
    let start = 0;
    let bytes = 0;
    let total = 0;
    for (let i = 0; i < events.length; i++) {
      const size = changeBytes(events[i]!);
      total += size;
      if (i > start && bytes + size > this.#maxBytes) {
        rounds.push({ events: events.slice(start, i), cursor: events[i - 1]!.seq });
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    rounds.push({ events: events.slice(start), cursor });
    const average = total / events.length;
    this.#next = Math.max(1, Math.min(this.#maxCount, Math.floor(this.#maxBytes / average)));
    return rounds;
  }
}
