/**
 * Three RabbitMQ nodes on loopback, ctl1@localhost … ctl3@localhost: AMQP on 5672 + n,
 * distribution on 25672 + n, management off. They run as root from /usr/lib/rabbitmq/bin (the
 * /usr/sbin wrappers would switch to the rabbitmq user and its HOME, whose Erlang cookie belongs to
 * the machine's single broker), with a HOME of their own holding the cluster's cookie, and an env
 * file of their own (the one in /etc/rabbitmq names the single broker's node).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

export const RABBIT_NODES = [1, 2, 3] as const;
const BIN = '/usr/lib/rabbitmq/bin';
const shared = join(CLUSTER_DIR, 'rabbitmq');
const home = join(shared, 'home');
/** The Erlang node name of node `n`. */
export const rabbitNode = (n: number): string => `ctl${n}@localhost`;
/** Node `n`'s directory (config, data, logs). */
export const rabbitDir = (n: number): string => join(CLUSTER_DIR, `rabbitmq-${n}`);
/** Node `n`'s pid file: the Erlang VM (beam) writes its pid there once it boots. */
export const rabbitPidFile = (n: number): string => join(rabbitDir(n), 'rabbitmq.pid');

/** The AMQP URL of node `n`. */
export const rabbitUrl = (n: number): string => `amqp://guest:guest@127.0.0.1:${5672 + n}`;

/** The environment of node `n`'s server and of the CLI tools talking to it. */
export function rabbitEnv(n: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    RABBITMQ_CONF_ENV_FILE: join(shared, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(shared, 'enabled_plugins'),
    RABBITMQ_NODENAME: rabbitNode(n),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(5672 + n),
    RABBITMQ_DIST_PORT: String(25672 + n),
    RABBITMQ_CONFIG_FILE: join(rabbitDir(n), 'rabbitmq.conf'),
    RABBITMQ_MNESIA_BASE: join(rabbitDir(n), 'mnesia'),
    RABBITMQ_LOG_BASE: join(rabbitDir(n), 'log'),
    RABBITMQ_PID_FILE: rabbitPidFile(n),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}

/** `rabbitmqctl -n ctl<n>@localhost …` with the cluster's HOME and cookie; bounded (90 s). */
export const rabbitCtl = (n: number, ...a: string[]): Promise<string> =>
  run(join(BIN, 'rabbitmqctl'), ['-n', rabbitNode(n), ...a], { env: rabbitEnv(n), timeoutMs: 90_000 });

/** Running nodes as node `n` sees them, or undefined when it does not answer. */
export async function runningNodes(n: number): Promise<string[] | undefined> {
  try {
    const out = await rabbitCtl(n, 'cluster_status', '--formatter', 'json');
    return (JSON.parse(out) as { running_nodes: string[] }).running_nodes;
  } catch {
    return undefined;
  }
}

function prepare(): void {
  for (const n of RABBIT_NODES) rmSync(rabbitDir(n), { recursive: true, force: true });
  rmSync(shared, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const cookie = join(home, '.erlang.cookie');
  writeFileSync(cookie, randomBytes(20).toString('hex').toUpperCase());
  chmodSync(cookie, 0o400);
  writeFileSync(
    join(shared, 'rabbitmq-env.conf'),
    '# ctlplane cluster: settings come from the environment\n',
  );
  writeFileSync(join(shared, 'enabled_plugins'), '[].\n');
  for (const n of RABBIT_NODES) {
    mkdirSync(join(rabbitDir(n), 'log'), { recursive: true });
    writeFileSync(
      join(rabbitDir(n), 'rabbitmq.conf'),
      `listeners.tcp.1 = 127.0.0.1:${5672 + n}\ncluster_partition_handling = pause_minority\n`,
    );
  }
}

/** Start three fresh nodes, join 2 and 3 to 1, wait until 1 sees all three running. */
export async function rabbitUp(): Promise<void> {
  prepare();
  const pids = RABBIT_NODES.map((n) =>
    startDetached(join(BIN, 'rabbitmq-server'), [], {
      cwd: rabbitDir(n),
      log: join(rabbitDir(n), 'stdout.log'),
      env: rabbitEnv(n),
    }),
  );
  for (const n of RABBIT_NODES) {
    const started = Date.now();
    writeFileSync(rabbitPidFile(n), `${pids[n - 1]}\n`);
    await waitFor(`rabbitmq ${rabbitNode(n)} running`, 120_000, async () => {
      if (!alive(pids[n - 1]!))
        throw new Fatal(`${rabbitNode(n)} exited\n${tail(join(rabbitDir(n), 'stdout.log'))}`);
      return (await runningNodes(n)) ? true : undefined;
    });
    if (n > 1) {
      await rabbitCtl(n, 'stop_app');
      await rabbitCtl(n, 'join_cluster', rabbitNode(1));
      await rabbitCtl(n, 'start_app');
    }
    say(
      `rabbitmq ${rabbitNode(n)} running${n > 1 ? `, joined ${rabbitNode(1)}` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  await waitFor('rabbitmq cluster of 3 running nodes', 60_000, async () =>
    (await runningNodes(1))?.length === 3 ? true : undefined,
  );
}

/** Stop the nodes, last joined first; `rabbitmqctl stop`, then signals if it did not work. */
export async function rabbitDown(): Promise<void> {
  for (const n of [...RABBIT_NODES].reverse()) {
    const pid = livePid(rabbitPidFile(n));
    if (pid === undefined) continue;
    await rabbitCtl(n, 'stop', rabbitPidFile(n)).catch(() => undefined);
    say(`rabbitmq ${rabbitNode(n)} (pid ${pid}) ${alive(pid) ? await stopPid(pid, 30_000) : 'stopped'}`);
  }
}

/** One line per node: running nodes as it sees them. */
export async function rabbitStatus(): Promise<boolean> {
  let healthy = true;
  for (const n of RABBIT_NODES) {
    const pid = livePid(rabbitPidFile(n));
    const running = pid === undefined ? undefined : await runningNodes(n);
    healthy &&= running?.length === 3;
    say(
      `rabbitmq ${rabbitNode(n)}  ${rabbitUrl(n)}  ${
        pid === undefined
          ? 'not running'
          : running
            ? `pid ${pid}, running nodes: ${running.join(' ')}`
            : `pid ${pid}, not answering`
      }`,
    );
  }
  return healthy;
}

/** Whether any node of ours is running. */
export const rabbitRunning = (): boolean => RABBIT_NODES.some((n) => livePid(rabbitPidFile(n)) !== undefined);
