/**
 * Counts of events per status, kept from the stream of changes: active events are tracked one by
 * one (their latest status), terminal ones only counted, so memory stays bounded.
 */
import { EVENT_STATUSES, type EventStatus, isTerminal, type StoredEvent } from '@ctlplane/core';

/** Events per status. */
export type StatusCounts = Record<EventStatus, number>;

const zero = (): StatusCounts => Object.fromEntries(EVENT_STATUSES.map((s) => [s, 0])) as StatusCounts;

/** Latest status of every event seen. */
export class StatusTally {
  readonly #active = new Map<number, { status: EventStatus; version: number }>();
  readonly #terminal = zero();
  readonly #ended = new Set<number>();

  /** Apply one change (older versions and changes after a terminal one are ignored). */
  apply(e: Pick<StoredEvent, 'id' | 'status' | 'version'>): void {
    if (this.#ended.has(e.id)) return;
    const held = this.#active.get(e.id);
    if (held && held.version >= e.version) return;
    if (!isTerminal(e.status)) {
      this.#active.set(e.id, { status: e.status, version: e.version });
      return;
    }
    this.#active.delete(e.id);
    this.#terminal[e.status]++;
    this.#ended.add(e.id);
    if (this.#ended.size > 200_000) this.#ended.delete(this.#ended.values().next().value as number);
  }

  /** Events per status now (terminal statuses count every event that ever reached them). */
  counts(): StatusCounts {
    const c = { ...this.#terminal };
    for (const { status } of this.#active.values()) c[status]++;
    return c;
  }
}
