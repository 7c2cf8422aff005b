/**
 * In-memory relay cursors and parked changes: for tests and single-process deployments (a restart
 * republishes from the start of the in-memory feed, which restarts too).
 *
 * @module
 */
import type { ParkedChange, RelayCursorStore } from '@ctlplane/core';

/** Parked changes kept per relay; past it the oldest are forgotten (the log line stays). */
const MAX_PARKED = 10_000;

/** Relay cursors and parked changes held in memory. */
export class MemoryCursorStore implements RelayCursorStore {
  readonly #cursors = new Map<string, number>();
  readonly #parked = new Map<string, Map<string, ParkedChange>>();

  async load(name: string): Promise<number> {
    return this.#cursors.get(name) ?? 0;
  }

  async save(name: string, cursor: number): Promise<void> {
    this.#cursors.set(name, Math.max(cursor, this.#cursors.get(name) ?? 0));
  }

  async park(name: string, change: ParkedChange): Promise<void> {
    const list = this.#parked.get(name) ?? new Map<string, ParkedChange>();
    this.#parked.set(name, list);
    const key = `${change.eventId}:${change.version}`;
    if (list.has(key)) return;
    list.set(key, Object.freeze({ ...change }));
    if (list.size > MAX_PARKED) list.delete(list.keys().next().value!);
  }

  async parked(name: string, limit: number): Promise<ParkedChange[]> {
    const list = [...(this.#parked.get(name)?.values() ?? [])];
    return list.sort((a, b) => b.seq - a.seq).slice(0, limit);
  }
}
