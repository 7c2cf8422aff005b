/**
 * In-memory relay cursors: for tests and single-process deployments (a restart republishes from
 * the start of the in-memory feed, which restarts too).
 *
 * @module
 */
import type { RelayCursorStore } from '@ctlplane/core';

/** Relay cursors held in memory. */
export class MemoryCursorStore implements RelayCursorStore {
  readonly #cursors = new Map<string, number>();

  async load(name: string): Promise<number> {
    return this.#cursors.get(name) ?? 0;
  }

  async save(name: string, cursor: number): Promise<void> {
    this.#cursors.set(name, Math.max(cursor, this.#cursors.get(name) ?? 0));
  }
}
