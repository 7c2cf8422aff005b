/**
 * How many changes the outbox relay reads at once: at most its batch size, and no more than fit
 * in its byte budget at the size of the changes it saw last. A page of 500 changes of 250 KB is
 * 125 MB read, parsed and encoded at once (with up to four pages in flight): the process's memory
 * grows by hundreds of MiB that the allocator keeps, and every change behind it waits for the
 * whole page. The first read is small; later ones are sized from what came before.
 *
 * @internal
 * @module
 */

import { checkJson } from '../events/json-check.js';
import type { StoredEvent } from '../events/model.js';

/** Changes in the relay's first read. */
const FIRST_READ = 32;
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

/** @internal The relay's read size, adjusted after every page. */
export class RelayPageSize {
  readonly #maxBytes: number;
  readonly #maxCount: number;
  #next: number;

  constructor(maxBytes: number, maxCount: number) {
    this.#maxBytes = maxBytes;
    this.#maxCount = maxCount;
    this.#next = Math.min(FIRST_READ, maxCount);
  }

  /** Changes to read next. */
  next(): number {
    return this.#next;
  }

  /** Size the next read from a page just read. */
  saw(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    let bytes = 0;
    for (const e of events) bytes += changeBytes(e);
    const average = bytes / events.length;
    this.#next = Math.max(1, Math.min(this.#maxCount, Math.floor(this.#maxBytes / average)));
  }
}
