/**
 * Event stores for the example, and an honest count of the database connections they hold:
 * MariaDB's own processlist with `--mysql`; in memory, the number of open store clients.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { defineEventTypes, EventStore } from '@ctlplane/core';
import type { EventStoreDriver } from '@ctlplane/core/driver';
import { z } from 'zod';

export const types = defineEventTypes({ 'droplet.create': z.object({ size: z.string() }) });
/** The example's event store. */
export type Store = EventStore<{ 'droplet.create': z.ZodObject<{ size: z.ZodString }> }>;

/** Opens store clients, each like a process with its own connection, and counts connections. */
export interface Database {
  /** A new client: on MySQL a pool of `poolSize` connections. */
  open(poolSize: number): Promise<Store>;
  /** Connections held now (processlist on MySQL; open clients in memory). */
  connections(): Promise<number>;
  /** Where the count comes from. */
  readonly source: string;
  close(): Promise<void>;
}

/** Clients sharing one in-memory store; each open client counts as one connection. */
export function memoryDatabase(): Database {
  const driver = new MemoryEventStoreDriver();
  const open = new Set<Store>();
  return {
    source: 'open store clients (in memory)',
    open: async () => {
      // Each client wraps the one shared driver; closing a client must not close the driver.
      const store: Store = new EventStore({ driver: sharedClient(driver), types });
      open.add(store);
      store.once('store:closed', () => open.delete(store));
      return store;
    },
    connections: async () => open.size,
    close: async () => {
      for (const s of open) await s.close();
      await driver.close();
    },
  };
}

/** A client of a shared driver: every call goes to it, but closing the client leaves it open. */
function sharedClient(d: EventStoreDriver): EventStoreDriver {
  return {
    name: d.name,
    capabilities: d.capabilities,
    append: (r) => d.append(r),
    get: (id) => d.get(id),
    query: (q) => d.query(q),
    transition: (t) => d.transition(t),
    claim: (c) => d.claim(c),
    renew: (id, owner, ms) => d.renew(id, owner, ms),
    release: (id, owner) => d.release(id, owner),
    readFeed: (cursor, limit, filter) => d.readFeed(cursor, limit, filter),
    head: () => d.head(),
    prune: (before, limit) => d.prune(before, limit),
    onCommit: (listener) => d.onCommit(listener),
    close: async () => {},
  };
}

/** Clients on MariaDB/MySQL; connections counted from `information_schema.PROCESSLIST`. */
export async function mysqlDatabase(url: string, tablePrefix: string): Promise<Database> {
  const { migrate, MysqlEventStoreDriver } = await import('@ctlplane/adapters/mysql');
  await migrate({ url, tablePrefix });
  const observer = new MysqlEventStoreDriver({ url, tablePrefix, poolSize: 1 });
  const open = new Set<Store>();
  const processlist = async (): Promise<number[]> => {
    const [rows] = await observer.pool.query(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()',
    );
    return (rows as { id: number }[]).map((r) => Number(r.id));
  };
  const before = new Set(await processlist()); // other clients of this database, not ours
  return {
    source: "MariaDB's processlist (connections to this database opened by this run)",
    open: async (poolSize) => {
      const store: Store = new EventStore({
        driver: new MysqlEventStoreDriver({ url, tablePrefix, poolSize }),
        types,
      });
      open.add(store);
      store.once('store:closed', () => open.delete(store));
      return store;
    },
    connections: async () => (await processlist()).filter((id) => !before.has(id)).length,
    close: async () => {
      for (const s of open) await s.close();
      await observer.close();
    },
  };
}
