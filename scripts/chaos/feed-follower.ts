/**
 * A follower of the changes feed by cursor, as the outbox relay and the polling router follow it:
 * it reads after its cursor through the store (on a cluster, the URL list of every node, so it
 * fails over with the adapter) and remembers every position it was given. At the end
 * {@link FeedFollower.gaps} holds it to the table: the feed is compacted (an event changed again
 * moves to a higher position), so every row's position is one its last change committed at, and
 * a row whose position the follower read past without seeing is a gap — a committed change a
 * cursor-following reader skipped for good.
 */
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { EventStore, type Logger, sleep } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { type DropletTypes, dropletTypes } from '../../packages/examples/src/droplet-cloud/types.js';
import type { AdminDb } from './admin.js';

/** Follows the feed from position 0 until stopped. */
export class FeedFollower {
  /** Positions the feed gave the follower. */
  readonly seen = new Set<number>();
  /** Reads that failed (retried after a pause). */
  errors = 0;
  #cursor = 0;
  readonly #store: EventStore<DropletTypes>;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;

  /** @param url - the store URL (comma-separated on a cluster) */
  constructor(url: string, tablePrefix: string, logger: Logger) {
    const driver = new MysqlEventStoreDriver({ url, tablePrefix, poolSize: 1, logger });
    this.#store = new EventStore({ driver, types: dropletTypes, logger });
  }

  /** The position after which the next read starts. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Start following. */
  start(): void {
    this.#loop ??= this.#follow();
  }

  /** Read until the cursor reaches `head` (or `deadline`, epoch ms), then stop. */
  async catchUp(head: number, deadline: number): Promise<void> {
    while (this.#cursor < head && Date.now() < deadline) await sleep(200);
    this.#stop.abort();
    await this.#loop;
    await this.#store.close().catch(() => {});
  }

  /** Positions of the table at or below the cursor that the follower never saw (examples first). */
  async gaps(admin: AdminDb, prefix: string): Promise<number[]> {
    const [rows] = await admin.query<RowDataPacket[]>(
      `SELECT seq FROM \`${prefix}events\` WHERE seq <= ? ORDER BY seq`,
      [this.#cursor],
    );
    return rows.map((r) => Number(r.seq)).filter((seq) => !this.seen.has(seq));
  }

  async #follow(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        const page = await this.#store.readFeed(this.#cursor, { limit: 500 });
        for (const e of page.events) this.seen.add(e.seq);
        this.#cursor = page.cursor;
        if (page.events.length < 500) await sleep(100, signal).catch(() => {});
      } catch {
        this.errors++;
        await sleep(500, signal).catch(() => {});
      }
    }
  }
}
