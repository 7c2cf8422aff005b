/**
 * Three MariaDB Galera nodes on loopback: node n listens on 3306 + n for SQL, 4567 + 10(n - 1) for
 * group communication (+1 for IST), 4444 + 10(n - 1) for rsync state transfer. Node 1 bootstraps
 * the cluster; 2 and 3 join one after the other (each takes a full rsync SST from a donor).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import {
  alive,
  CLUSTER_DIR,
  Fatal,
  livePid,
  run,
  say,
  startDetached,
  stopPid,
  tail,
  waitFor,
} from './process.js';

export const GALERA_NODES = [1, 2, 3] as const;
const PROVIDER = '/usr/lib/galera/libgalera_smm.so';

const port = (n: number): number => 3306 + n;
const gcomm = (n: number): number => 4567 + 10 * (n - 1);
const dir = (n: number): string => join(CLUSTER_DIR, `galera-${n}`);
/** Where node `n` keeps its data, pid files, log and socket. */
export const galeraFiles = (n: number) => ({
  data: join(dir(n), 'data'),
  pid: join(dir(n), 'mariadbd.pid'),
  /** Written by `up` at once (mariadbd writes its own only once it is up). */
  ctlPid: join(dir(n), 'ctl.pid'),
  log: join(dir(n), 'error.log'),
  socket: join(dir(n), 'mariadbd.sock'),
});

/** The URL of node `n`'s `test` database. */
export const galeraUrl = (n: number): string => `mysql://root@127.0.0.1:${port(n)}/test`;

/**
 * The command line of node `n`. `join` starts it as a member of a running cluster: without it, node 1
 * bootstraps a new one (`--wsrep-new-cluster`), which only `up` may do.
 */
export function galeraArgs(n: number, o: { join?: boolean } = {}): string[] {
  const f = galeraFiles(n);
  const peers = GALERA_NODES.map((m) => `127.0.0.1:${gcomm(m)}`).join(',');
  return [
    '--no-defaults',
    '--user=mysql',
    `--datadir=${f.data}`,
    `--pid-file=${f.pid}`,
    `--log-error=${f.log}`,
    `--socket=${f.socket}`,
    '--bind-address=127.0.0.1',
    `--port=${port(n)}`,
    '--binlog-format=ROW',
    '--default-storage-engine=InnoDB',
    '--innodb-autoinc-lock-mode=2',
    '--innodb-buffer-pool-size=128M',
    '--innodb-log-file-size=64M',
    '--innodb-flush-log-at-trx-commit=2',
    '--max-connections=300',
    '--performance-schema=OFF',
    '--wsrep-on=ON',
    `--wsrep-provider=${PROVIDER}`,
    `--wsrep-cluster-address=gcomm://${peers}`,
    '--wsrep-cluster-name=ctlplane',
    `--wsrep-node-name=galera-${n}`,
    `--wsrep-node-address=127.0.0.1:${gcomm(n)}`,
    `--wsrep-sst-receive-address=127.0.0.1:${4444 + 10 * (n - 1)}`,
    '--wsrep-sst-method=rsync',
    `--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:${gcomm(n)};ist.recv_addr=127.0.0.1:${gcomm(n) + 1};gcache.size=64M`,
    ...(n === 1 && !o.join ? ['--wsrep-new-cluster'] : []),
  ];
}

/** `wsrep_%` status of node `n`, or undefined when it does not answer. */
export async function wsrepStatus(n: number): Promise<Record<string, string> | undefined> {
  try {
    const conn = await createConnection({ uri: galeraUrl(n), connectTimeout: 2000 });
    try {
      const [rows] = await conn.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'wsrep_%'");
      return Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
    } finally {
      await conn.end();
    }
  } catch {
    return undefined;
  }
}

/** Wait until node `n` (process `pid`) is Synced in a cluster of at least `size`; bounded by `ms`. */
export async function waitSynced(n: number, size: number, pid: number, ms: number): Promise<void> {
  await waitFor(`galera-${n} Synced in a cluster of ${size}`, ms, async () => {
    if (!alive(pid)) throw new Fatal(`galera-${n} (pid ${pid}) exited`);
    const s = await wsrepStatus(n);
    if (!s) throw new Error('not answering yet');
    const state = `${s.wsrep_local_state_comment}, cluster size ${s.wsrep_cluster_size}`;
    if (s.wsrep_local_state_comment === 'Synced' && Number(s.wsrep_cluster_size) >= size) return true;
    throw new Error(state);
  }).catch((e: Error) => {
    throw new Error(`${e.message}\n--- ${galeraFiles(n).log}:\n${tail(galeraFiles(n).log)}`);
  });
}

/** Initialise node 1's data directory, grant root over TCP, create `test`. */
async function bootstrap(): Promise<void> {
  const f = galeraFiles(1);
  await run('mariadb-install-db', [
    '--no-defaults',
    '--user=mysql',
    `--datadir=${f.data}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ]);
}

async function grants(): Promise<void> {
  const conn = await createConnection({ socketPath: galeraFiles(1).socket, user: 'root' });
  try {
    await conn.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''");
    await conn.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
    await conn.query('CREATE DATABASE IF NOT EXISTS test');
  } finally {
    await conn.end();
  }
}

/** Start the three nodes from empty data directories and wait until all are Synced. */
export async function galeraUp(): Promise<void> {
  for (const n of GALERA_NODES) {
    rmSync(dir(n), { recursive: true, force: true });
    mkdirSync(galeraFiles(n).data, { recursive: true });
    // As mysql, not root: as root, the joiner's rsync daemon of the state transfer would write as nobody.
    await run('chown', ['-R', 'mysql:mysql', dir(n)]);
  }
  await bootstrap();
  for (const n of GALERA_NODES) {
    const started = Date.now();
    const pid = startDetached('/usr/sbin/mariadbd', galeraArgs(n), {
      cwd: dir(n),
      log: join(dir(n), 'stdout.log'),
    });
    writeFileSync(galeraFiles(n).ctlPid, `${pid}\n`);
    if (n === 1) {
      await waitFor('galera-1 socket', 60_000, async () => {
        if (!alive(pid)) throw new Fatal(`galera-1 (pid ${pid}) exited`);
        const c = await createConnection({ socketPath: galeraFiles(1).socket, user: 'root' });
        await c.end();
        return true;
      });
      await grants();
    }
    await waitSynced(n, n, pid, 120_000);
    say(`galera-${n} Synced (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

/** Stop the nodes, last joined first (node 1, stopped last, is the one safe to bootstrap from). */
export async function galeraDown(): Promise<void> {
  for (const n of [...GALERA_NODES].reverse()) {
    const pid = livePid(galeraFiles(n).ctlPid);
    if (pid === undefined) continue;
    say(`galera-${n} (pid ${pid}) ${await stopPid(pid, 60_000)}`);
  }
}

/** One line per node: state, cluster size, pid. */
export async function galeraStatus(): Promise<boolean> {
  let healthy = true;
  for (const n of GALERA_NODES) {
    const pid = livePid(galeraFiles(n).ctlPid);
    const s = pid === undefined ? undefined : await wsrepStatus(n);
    const ok = s?.wsrep_local_state_comment === 'Synced' && s.wsrep_cluster_size === '3';
    healthy &&= ok;
    say(
      `galera-${n}  ${galeraUrl(n)}  ${
        pid === undefined
          ? 'not running'
          : s
            ? `pid ${pid}, ${s.wsrep_local_state_comment}, cluster size ${s.wsrep_cluster_size}, ${s.wsrep_cluster_status}`
            : `pid ${pid}, not answering`
      }`,
    );
  }
  return healthy;
}

/** Whether any node of ours is running. */
export const galeraRunning = (): boolean =>
  GALERA_NODES.some((n) => livePid(galeraFiles(n).ctlPid) !== undefined);
