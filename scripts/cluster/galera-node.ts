/**
 * One Galera node lost and brought back, for the chaos run's cluster mode and the galera test
 * project: SIGKILL of its `mariadbd`, waited out, then
 * a restart that joins the running cluster (never `--wsrep-new-cluster`) and
 * counts only once the node is Synced again. Before the restart the node's last committed position
 * is recovered from InnoDB (`--wsrep-recover`, what the packaged `galera_recovery` does), so the
 * joiner can ask a donor for the missing write-sets only (IST) instead of a full copy (SST).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '@ctlplane/core';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { pickWriter, probeNode } from '../../packages/adapters/src/mysql/writer-node.js';
import { GALERA_NODES, galeraArgs, galeraFiles, galeraUrl, waitSynced, wsrepStatus } from './galera.js';
import { alive, livePid, run, startDetached } from './process.js';

/** The pid of node `n`'s `mariadbd` when it is running. */
export const galeraPid = (n: number): number | undefined => livePid(galeraFiles(n).ctlPid);

/** True when every node is Synced in a cluster of 3 (quiet: prints nothing). */
export async function galeraHealthy(): Promise<boolean> {
  for (const n of GALERA_NODES) {
    const s = galeraPid(n) === undefined ? undefined : await wsrepStatus(n);
    if (s?.wsrep_local_state_comment !== 'Synced' || s.wsrep_cluster_size !== '3') return false;
  }
  return true;
}

/** SIGKILL node `n` and wait (at most 10 s) until it is gone. */
export async function crashGaleraNode(n: number): Promise<void> {
  const pid = galeraPid(n);
  if (pid === undefined) throw new Error(`galera-${n} is not running`);
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`galera-${n} (pid ${pid}) still alive 10 s after SIGKILL`);
    await sleep(50);
  }
}

/** How a restarted node caught up. */
export interface GaleraRejoin {
  /** `IST` (the missing write-sets), `SST` (a full copy) or `unknown` (nothing in the log). */
  readonly transfer: 'IST' | 'SST' | 'unknown';
  /** The position recovered from InnoDB before the start, when recovery found one. */
  readonly recovered: string | undefined;
}

/** `uuid:seqno` of the last transaction node `n` committed, read by `mariadbd --wsrep-recover`. */
async function recoverPosition(n: number): Promise<string | undefined> {
  const log = join(galeraFiles(n).data, '..', 'wsrep-recover.log');
  writeFileSync(log, '');
  await run('chown', ['mysql:mysql', log]); // mariadbd --user=mysql writes it
  try {
    // Of two --log-error options the first wins: drop the node's own.
    const args = galeraArgs(n, { join: true }).filter((a) => !a.startsWith('--log-error='));
    await run('/usr/sbin/mariadbd', [...args, '--wsrep-recover', `--log-error=${log}`], {
      timeoutMs: 60_000,
    });
  } catch {
    return undefined; // a full state transfer still brings the node back
  }
  const m = /WSREP: Recovered position:\s*([0-9a-f-]{36}:-?\d+)/.exec(readFileSync(log, 'utf8'));
  return m?.[1] && !m[1].endsWith(':-1') ? m[1] : undefined;
}

/**
 * Start node `n` again as a member of the running cluster and wait until it is Synced in a cluster
 * of 3; bounded by `ms`, the error names the node and the tail of its log.
 */
export async function rejoinGaleraNode(n: number, ms: number): Promise<GaleraRejoin> {
  if (galeraPid(n) !== undefined) throw new Error(`galera-${n} is already running`);
  const f = galeraFiles(n);
  const recovered = await recoverPosition(n);
  const logStart = statSync(f.log, { throwIfNoEntry: false })?.size ?? 0;
  const args = [
    ...galeraArgs(n, { join: true }),
    ...(recovered ? [`--wsrep-start-position=${recovered}`] : []),
  ];
  const pid = startDetached('/usr/sbin/mariadbd', args, {
    cwd: join(f.data, '..'),
    log: join(f.data, '..', 'stdout.log'),
  });
  writeFileSync(f.ctlPid, `${pid}\n`);
  await waitSynced(n, 3, pid, ms);
  const log = readFileSync(f.log, 'utf8').slice(logStart);
  // With a known position the joiner prepares an IST receiver and the donor's "SST" is a bypass;
  // without one, a full rsync copy (which may end with an IST of what committed meanwhile).
  const ist = /Prepared IST receiver for (-?\d+)-(\d+)/.exec(log);
  const transfer = ist ? 'IST' : /SST succeeded|Installed new state from SST/.test(log) ? 'SST' : 'unknown';
  return { transfer, recovered };
}

/**
 * The node the clients write through: per node, the connections of users whose name starts with
 * `userPrefix` (every process of a deployment agrees on one writer, so they concentrate on it).
 * Nodes that do not answer count 0. Undefined when no node has any such connection.
 */
export async function galeraWriterByConnections(
  userPrefix: string,
): Promise<{ node: number; connections: Record<number, number> } | undefined> {
  const connections: Record<number, number> = {};
  for (const n of GALERA_NODES) {
    connections[n] = 0;
    if (galeraPid(n) === undefined) continue;
    try {
      const conn = await createConnection({ uri: galeraUrl(n), connectTimeout: 2_000 });
      try {
        const [rows] = await conn.query<RowDataPacket[]>(
          'SELECT COUNT(*) AS c FROM information_schema.PROCESSLIST WHERE user LIKE ?',
          [`${userPrefix.replaceAll('_', '\\_')}%`],
        );
        connections[n] = Number(rows[0]!.c);
      } finally {
        await conn.end();
      }
    } catch {
      // not answering: no clients there
    }
  }
  const [node, most] = Object.entries(connections).sort((a, b) => b[1] - a[1])[0]!;
  return most > 0 ? { node: Number(node), connections } : undefined;
}

/**
 * The writer by the adapter's own rule (writer-node.ts: of the nodes Synced in the primary
 * component, the one up the longest), probed the same way the backends probe.
 */
export async function galeraWriterByUptime(): Promise<number | undefined> {
  const found = await Promise.all(GALERA_NODES.map((n, i) => probeNode(galeraUrl(n), i, 2_000)));
  const index = pickWriter(found);
  return index < 0 ? undefined : GALERA_NODES[index];
}
