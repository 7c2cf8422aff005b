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
const node = (n: number): string => `ctl${n}@localhost`;
const dir = (n: number): string => join(CLUSTER_DIR, `rabbitmq-${n}`);
const pidFile = (n: number): string => join(dir(n), 'rabbitmq.pid');

/** The AMQP URL of node `n`. */
export const rabbitUrl = (n: number): string => `amqp://guest:guest@127.0.0.1:${5672 + n}`;

/** The environment of node `n`'s server and of the CLI tools talking to it. */
function env(n: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: home,
    RABBITMQ_CONF_ENV_FILE: join(shared, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(shared, 'enabled_plugins'),
    RABBITMQ_NODENAME: node(n),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(5672 + n),
    RABBITMQ_DIST_PORT: String(25672 + n),
    RABBITMQ_CONFIG_FILE: join(dir(n), 'rabbitmq.conf'),
    RABBITMQ_MNESIA_BASE: join(dir(n), 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir(n), 'log'),
    RABBITMQ_PID_FILE: pidFile(n),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}

const ctl = (n: number, ...a: string[]): Promise<string> =>
  run(join(BIN, 'rabbitmqctl'), ['-n', node(n), ...a], { env: env(n), timeoutMs: 90_000 });

/** Running nodes as node `n` sees them, or undefined when it does not answer. */
export async function runningNodes(n: number): Promise<string[] | undefined> {
  try {
    const out = await ctl(n, 'cluster_status', '--formatter', 'json');
    return (JSON.parse(out) as { running_nodes: string[] }).running_nodes;
  } catch {
    return undefined;
  }
}

function prepare(): void {
  for (const n of RABBIT_NODES) rmSync(dir(n), { recursive: true, force: true });
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
    mkdirSync(join(dir(n), 'log'), { recursive: true });
    writeFileSync(
      join(dir(n), 'rabbitmq.conf'),
      `listeners.tcp.1 = 127.0.0.1:${5672 + n}\ncluster_partition_handling = pause_minority\n`,
    );
  }
}

/** Start three fresh nodes, join 2 and 3 to 1, wait until 1 sees all three running. */
export async function rabbitUp(): Promise<void> {
  prepare();
  const pids = RABBIT_NODES.map((n) =>
    startDetached(join(BIN, 'rabbitmq-server'), [], {
      cwd: dir(n),
      log: join(dir(n), 'stdout.log'),
      env: env(n),
    }),
  );
  for (const n of RABBIT_NODES) {
    const started = Date.now();
    writeFileSync(pidFile(n), `${pids[n - 1]}\n`);
    await waitFor(`rabbitmq ${node(n)} running`, 120_000, async () => {
      if (!alive(pids[n - 1]!)) throw new Fatal(`${node(n)} exited\n${tail(join(dir(n), 'stdout.log'))}`);
      return (await runningNodes(n)) ? true : undefined;
    });
    if (n > 1) {
      await ctl(n, 'stop_app');
      await ctl(n, 'join_cluster', node(1));
      await ctl(n, 'start_app');
    }
    say(
      `rabbitmq ${node(n)} running${n > 1 ? `, joined ${node(1)}` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  await waitFor('rabbitmq cluster of 3 running nodes', 60_000, async () =>
    (await runningNodes(1))?.length === 3 ? true : undefined,
  );
}

/** Stop the nodes, last joined first; `rabbitmqctl stop`, then signals if it did not work. */
export async function rabbitDown(): Promise<void> {
  for (const n of [...RABBIT_NODES].reverse()) {
    const pid = livePid(pidFile(n));
    if (pid === undefined) continue;
    await ctl(n, 'stop', pidFile(n)).catch(() => undefined);
    say(`rabbitmq ${node(n)} (pid ${pid}) ${alive(pid) ? await stopPid(pid, 30_000) : 'stopped'}`);
  }
}

/** One line per node: running nodes as it sees them. */
export async function rabbitStatus(): Promise<boolean> {
  let healthy = true;
  for (const n of RABBIT_NODES) {
    const pid = livePid(pidFile(n));
    const running = pid === undefined ? undefined : await runningNodes(n);
    healthy &&= running?.length === 3;
    say(
      `rabbitmq ${node(n)}  ${rabbitUrl(n)}  ${
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
export const rabbitRunning = (): boolean => RABBIT_NODES.some((n) => livePid(pidFile(n)) !== undefined);
