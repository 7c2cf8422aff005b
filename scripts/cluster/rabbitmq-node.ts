/**
 * One RabbitMQ node lost and brought back, for the chaos run's cluster mode: SIGKILL of its Erlang
 * VM (no goodbye to its peers, as when a machine dies), then a restart that rejoins the cluster by
 * itself (its membership is on disk) and counts only once the node sees all three running.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '@ctlplane/core';
import { alive, Fatal, livePid, startDetached, tail, waitFor } from './process.js';
import {
  RABBIT_NODES,
  rabbitCtl,
  rabbitDir,
  rabbitEnv,
  rabbitNode,
  rabbitPidFile,
  runningNodes,
} from './rabbitmq.js';

const BIN = '/usr/lib/rabbitmq/bin';

/** The pid of node `n`'s Erlang VM when it is running. */
export const rabbitPid = (n: number): number | undefined => livePid(rabbitPidFile(n));

/**
 * True when every node's VM is alive and one of them sees 3 running nodes (quiet). One CLI call,
 * not one per node: under load each `rabbitmqctl` takes seconds to boot its Erlang VM.
 */
export async function rabbitHealthy(): Promise<boolean> {
  if (RABBIT_NODES.some((n) => rabbitPid(n) === undefined)) return false;
  return (await runningNodes(RABBIT_NODES[0]))?.length === RABBIT_NODES.length;
}

/** SIGKILL node `n`'s VM and wait (at most 10 s) until it is gone. */
export async function killRabbitNode(n: number): Promise<void> {
  const pid = rabbitPid(n);
  if (pid === undefined) throw new Error(`rabbitmq ${rabbitNode(n)} is not running`);
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (alive(pid)) {
    if (Date.now() > deadline)
      throw new Error(`${rabbitNode(n)} (pid ${pid}) still alive 10 s after SIGKILL`);
    await sleep(50);
  }
}

/** Start node `n` again and wait until it sees all three nodes running; bounded by `ms`. */
export async function restartRabbitNode(n: number, ms: number): Promise<void> {
  if (rabbitPid(n) !== undefined) throw new Error(`${rabbitNode(n)} is already running`);
  rmSync(rabbitPidFile(n), { force: true });
  const log = join(rabbitDir(n), 'stdout.log');
  const script = startDetached(join(BIN, 'rabbitmq-server'), [], {
    cwd: rabbitDir(n),
    log,
    env: rabbitEnv(n),
  });
  await waitFor(`${rabbitNode(n)} running in a cluster of 3`, ms, async () => {
    if (!alive(script) && rabbitPid(n) === undefined)
      throw new Fatal(`${rabbitNode(n)} exited\n${tail(log)}`);
    return (await runningNodes(n))?.length === 3 ? true : undefined;
  });
}

/** A queue as a cluster node lists it: type, members (quorum), members online, leader. */
export interface QueueReplicas {
  readonly name: string;
  readonly type: string;
  readonly members: readonly string[];
  readonly online: readonly string[];
  readonly leader: string;
}

/** Queues whose name starts with `prefix`, as node `n` lists them. */
export async function queueReplicas(n: number, prefix: string): Promise<QueueReplicas[]> {
  const out = await rabbitCtl(
    n,
    'list_queues',
    'name',
    'type',
    'members',
    'online',
    'leader',
    '--formatter',
    'json',
  );
  const rows = JSON.parse(out) as {
    name: string;
    type: string;
    members?: unknown;
    online?: unknown;
    leader?: unknown;
  }[];
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  return rows
    .filter((r) => r.name.startsWith(prefix))
    .map((r) => ({
      name: r.name,
      type: r.type,
      members: list(r.members),
      online: list(r.online),
      leader: typeof r.leader === 'string' ? r.leader : '',
    }));
}
