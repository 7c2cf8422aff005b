/**
 * The chaos run's own MariaDB connection (progress, settle, checker), which must outlive the node
 * it is on: on a connection-level error it reconnects to the next node of the list and asks again,
 * for at most a minute. Its session waits for causality (`wsrep_sync_wait = 1` on Galera), so a read
 * through any node sees what the cluster had committed when it began.
 */
import { sleep } from '@ctlplane/core';
import { type Connection, createConnection } from 'mysql2/promise';

/** What the run asks of its connection: queries, and closing it. */
export interface AdminDb {
  readonly query: Connection['query'];
  end(): Promise<void>;
}

/** How long a query keeps trying other nodes before it fails. */
const FAILOVER_MS = 60_000;
/** MySQL errors that say the node, not the query, is the problem. */
const NODE_ERRNOS = new Set([
  1047, // WSREP has not yet prepared node for application use (not in the primary component)
  1053, // server shutdown in progress
  1927, // connection was killed
  2006, // server has gone away
  2013, // lost connection
]);

/** True for errors after which the same query may succeed through another node. */
export function nodeError(err: unknown): boolean {
  const e = err as { fatal?: boolean; errno?: number; code?: string };
  return (
    e?.fatal === true ||
    NODE_ERRNOS.has(e?.errno ?? 0) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'EPIPE'].includes(e?.code ?? '')
  );
}

/** A connection to the first node of `urls` that answers, failing over to the next on node errors. */
export function openAdmin(urls: readonly string[]): AdminDb {
  let conn: Connection | null = null;
  let next = 0;
  let closed = false;
  const connect = async (): Promise<Connection> => {
    const c = await createConnection({ uri: urls[next % urls.length]!, connectTimeout: 3_000 });
    c.on('error', () => {}); // a lost connection is noticed by the next query
    if (urls.length > 1) await c.query('SET SESSION wsrep_sync_wait = 1');
    return c;
  };
  const query = (async (...args: unknown[]) => {
    const deadline = Date.now() + FAILOVER_MS;
    for (;;) {
      try {
        conn ??= await connect();
        return await (conn.query as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        if (closed || !nodeError(err) || Date.now() > deadline) throw err;
        conn?.destroy();
        conn = null;
        next++;
        await sleep(250);
      }
    }
  }) as Connection['query'];
  return {
    query,
    end: async () => {
      closed = true;
      await conn?.end().catch(() => conn?.destroy());
    },
  };
}
