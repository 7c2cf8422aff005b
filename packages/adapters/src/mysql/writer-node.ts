/**
 * Which node of a Galera cluster is the writer: probe every node, keep those ready for queries,
 * take the one up the longest. Every process applies the same rule to the same cluster, so they
 * agree on one writer without talking to each other, and a node that restarts (its uptime starts
 * again at 0) never takes the role back from the node that replaced it. A Galera node chosen is
 * first made to catch up with the cluster ({@link catchUp}).
 *
 * @internal
 * @module
 */
import { maskSecrets } from '@ctlplane/core';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';

/** What one probe found. */
export interface NodeStatus {
  /** Position in the configured list. */
  readonly index: number;
  /** Ready for reads and writes: a plain server, or a Galera node `Synced` in the primary component. */
  readonly ready: boolean;
  /** Seconds the server has been up (`Uptime`), 0 when unknown. */
  readonly uptimeS: number;
  /** A Galera node (`wsrep_on`): it must {@link catchUp} before it takes writes. */
  readonly galera?: boolean;
  /** Why the node is not ready (masked). */
  readonly reason?: string;
}

/**
 * The writer among probed nodes: the ready node with the longest uptime, the first in the list on
 * a tie; -1 when none is ready.
 */
export function pickWriter(nodes: readonly NodeStatus[]): number {
  let best: NodeStatus | null = null;
  for (const n of nodes) {
    if (n.ready && (best === null || n.uptimeS > best.uptimeS)) best = n;
  }
  return best?.index ?? -1;
}

/** A Galera node, from `SHOW GLOBAL VARIABLES` values (lower-cased names): `wsrep_on` is ON. */
function isGalera(values: ReadonlyMap<string, string>): boolean {
  return (values.get('wsrep_on') ?? 'OFF').toUpperCase() === 'ON';
}

/** Decide readiness from `SHOW GLOBAL STATUS` / `VARIABLES` values (lower-cased names). */
export function readiness(values: ReadonlyMap<string, string>): { ready: boolean; reason?: string } {
  if (!isGalera(values)) return { ready: true };
  const cluster = values.get('wsrep_cluster_status') ?? '?';
  const state = values.get('wsrep_local_state_comment') ?? '?';
  const wsrepReady = values.get('wsrep_ready') ?? '?';
  if (cluster === 'Primary' && state === 'Synced' && wsrepReady === 'ON') return { ready: true };
  return {
    ready: false,
    reason: `wsrep_cluster_status=${cluster}, state=${state}, wsrep_ready=${wsrepReady}`,
  };
}

const STATUS_SQL =
  "SHOW GLOBAL STATUS WHERE Variable_name IN ('Uptime', 'wsrep_ready', 'wsrep_local_state_comment', 'wsrep_cluster_status')";
const VARIABLES_SQL = "SHOW GLOBAL VARIABLES WHERE Variable_name = 'wsrep_on'";

/**
 * Run `fn` on a connection of its own to `url`, bounded by `timeoutMs` from connecting to answer
 * and ended early by `signal`; the connection is closed after (a late one when it arrives).
 */
async function withConnection<T>(
  url: string,
  timeoutMs: number,
  fn: (conn: Connection) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const connecting = createConnection({ uri: url, connectTimeout: timeoutMs });
  const work = (async () => {
    const conn = await connecting;
    try {
      return await fn(conn);
    } finally {
      conn.destroy();
    }
  })();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    onAbort = () => reject(new Error('cancelled'));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (err) {
    connecting.then((c) => c.destroy()).catch(() => {});
    work.catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Probe one node with a connection of its own, bounded by `timeoutMs` from start to answer. */
export async function probeNode(url: string, index: number, timeoutMs: number): Promise<NodeStatus> {
  try {
    return await withConnection(url, timeoutMs, async (conn) => {
      const [status] = await conn.query<RowDataPacket[]>(STATUS_SQL);
      const [vars] = await conn.query<RowDataPacket[]>(VARIABLES_SQL);
      const values = new Map<string, string>();
      for (const r of [...status, ...vars])
        values.set(String(r.Variable_name).toLowerCase(), String(r.Value));
      const { ready, reason } = readiness(values);
      const uptimeS = Number(values.get('uptime') ?? 0) || 0;
      const galera = isGalera(values);
      return reason === undefined
        ? { index, ready, uptimeS, galera }
        : { index, ready, uptimeS, galera, reason };
    });
  } catch (err) {
    return { index, ready: false, uptimeS: 0, reason: maskSecrets((err as Error)?.message ?? String(err)) };
  }
}

/**
 * Make a Galera node catch up before it takes writes: a causal read (`wsrep_sync_wait = 1`) returns
 * once the node has applied every write-set the cluster ordered before it. It matters after a
 * failover. A node reports itself Synced and Primary while the cluster has not yet evicted the
 * crashed writer (measured: 4.5 s here); the old writer's last write-sets can reach it only then,
 * and applying them aborts the local transactions that hold the same rows (Galera's brute-force
 * abort). After such an abort between two statements of one round trip, the rest of the round trip
 * still runs and commits without the part the abort undid, which can leave the feed with a hole.
 * The causal read waits for that delivery, so nothing is sent to the node before it. On a healthy
 * cluster it costs a connection, a login and one group round trip.
 *
 * @throws the driver's error, `no answer within …` when the node did not catch up in time, or
 *   `cancelled` when `signal` aborted
 */
export async function catchUp(url: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  await withConnection(
    url,
    timeoutMs,
    async (conn) => {
      await conn.query('SET SESSION wsrep_sync_wait = 1');
      await conn.query('SELECT 1');
    },
    signal,
  );
}
