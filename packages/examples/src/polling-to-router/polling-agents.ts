/**
 * The 2013 design: every hypervisor's agent polls the events table itself, over its own
 * database connection, asking "anything for me?" every `pollMs`.
 */

import { setMaxListeners } from 'node:events';
import { sleep } from '@ctlplane/core';
import type { Database, Store } from './db.js';

/** A fleet of polling agents. */
export class PollingFleet {
  queries = 0;
  readonly #stores: Store[] = [];
  readonly #abort = new AbortController();
  #loops: Promise<void>[] = [];

  /** Open one store client per server and start polling. */
  async start(db: Database, servers: readonly string[], pollMs: number, workMs: number): Promise<void> {
    setMaxListeners(servers.length + 10, this.#abort.signal);
    for (const _ of servers) this.#stores.push(await db.open(1));
    this.#loops = servers.map((serverId, i) => this.#poll(this.#stores[i]!, serverId, pollMs, workMs));
  }

  async #poll(store: Store, serverId: string, pollMs: number, workMs: number): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const work = await store.claim({ owner: `agent-${serverId}`, serverId, limit: 10, leaseMs: 30_000 });
      this.queries++;
      for (const e of work) {
        await sleep(workMs, signal);
        await store.transition({ id: e.id, version: e.version, to: 'done', result: { booted: true } });
        this.queries++;
      }
      await sleep(pollMs, signal);
    }
  }

  /** Stop polling and close every agent's connection. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
    for (const s of this.#stores) await s.close();
  }
}
