/**
 * The fault injector: from a seeded random source it picks, one after another, a fault and its
 * target and parameters, injects it, and undoes it (restart, resume, start_app) before the next,
 * so the deployment is whole again whenever the injector stops. The sequence of faults follows
 * from the seed; when each lands in the system's work is up to the scheduler of the machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sleep } from '@ctlplane/core';
import { pick, seeded } from '../../packages/examples/src/droplet-cloud/random.js';
import type { ClusterFaults } from './cluster-faults.js';
import { type ChaosDatabase, DB_CLIENTS } from './database.js';
import { AGENT_IDLE_TIMEOUT_MS, type Deployment, SCHEDULER_LEASE_MS } from './deployment.js';

const run = promisify(execFile);

/** The kinds of fault on single services, and how often each is picked relative to the others. */
export const FAULT_WEIGHTS = {
  'kill-process': 5,
  'kill-db-connections': 2,
  'disconnect-agents': 2,
  'pause-agents': 1,
  'pause-scheduler': 1,
  'restart-rabbitmq': 1,
} as const;
/**
 * On the clusters, the process lane's kinds: the single broker's stop_app has no place there. The
 * nodes of the clusters are killed in a lane of their own (see {@link FaultInjector.run}).
 */
export const CLUSTER_FAULT_WEIGHTS = {
  'kill-process': 5,
  'kill-db-connections': 2,
  'disconnect-agents': 2,
  'pause-agents': 1,
  'pause-scheduler': 1,
} as const;
/** The node lane's kinds, taken in turn (a Galera node first). */
export const NODE_FAULTS = ['kill-galera-node', 'kill-rabbitmq-node'] as const;
/** Pause between two node faults (ms): long enough for the deployment to work on a whole cluster. */
const NODE_PAUSE_MS = [3_000, 10_000] as const;
/** A kind of fault. */
export type FaultKind = keyof typeof FAULT_WEIGHTS | (typeof NODE_FAULTS)[number];
/** Every kind of fault, in report order. */
export const FAULT_KINDS = [...new Set([...Object.keys(FAULT_WEIGHTS), ...NODE_FAULTS])] as FaultKind[];
type Weights = Partial<Record<FaultKind, number>>;

/** One injected fault. */
export interface FaultRecord {
  /** Seconds since the run started. */
  readonly at: number;
  readonly kind: FaultKind;
  readonly target: string;
  readonly detail: string;
  /** How long the fault lasted, until the deployment was whole again (ms). */
  readonly ms: number;
  /** Connections killed or reset, when the fault is about connections. */
  readonly connections?: number;
  /** The injection itself failed (e.g. rabbitmqctl timed out). */
  readonly error?: string;
}

/** What the injector acts on. */
export interface FaultTargets {
  readonly deployment: Deployment;
  readonly db: ChaosDatabase;
  /** The routers' WebSocket ports (agents' connections end there). */
  readonly routerPorts: readonly number[];
  /** On the clusters: their nodes, killed and restarted. */
  readonly cluster?: ClusterFaults;
}

const between = (random: () => number, lo: number, hi: number): number =>
  Math.round(lo + random() * (hi - lo));

function pickKind(weights: Weights, random: () => number): FaultKind {
  const entries = Object.entries(weights) as [FaultKind, number][];
  let r = random() * entries.reduce((n, [, w]) => n + w, 0);
  for (const [kind, w] of entries) {
    r -= w;
    if (r < 0) return kind;
  }
  return entries[0]![0];
}

/** The order of the first round: every kind once, shuffled by the seed. */
function firstRound(weights: Weights, random: () => number): FaultKind[] {
  const kinds = Object.keys(weights) as FaultKind[];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds;
}

/**
 * Injects faults until stopped: first every kind once (in an order the seed shuffles), so that
 * even a short run tries each, then kinds drawn by {@link FAULT_WEIGHTS} (on the clusters
 * {@link CLUSTER_FAULT_WEIGHTS}). On the clusters a second lane kills and restarts their nodes
 * meanwhile, one at a time ({@link NODE_FAULTS} in turn).
 */
export class FaultInjector {
  readonly log: FaultRecord[] = [];
  readonly #t: FaultTargets;
  readonly #random: () => number;
  /** The node lane's own sequence, so the process lane's does not depend on the lanes' timing. */
  readonly #nodeRandom: () => number;
  readonly #everyMs: number;
  #startedAt = Date.now();
  #round: FaultKind[] | null = null;
  #dbKills = 0;
  readonly #say: (line: string) => void;
  readonly #weights: Weights;

  constructor(o: {
    targets: FaultTargets;
    random: () => number;
    everyMs: number;
    say: (line: string) => void;
  }) {
    this.#t = o.targets;
    this.#random = o.random;
    this.#nodeRandom = seeded(Math.floor(o.random() * 2 ** 31));
    this.#everyMs = o.everyMs;
    this.#say = o.say;
    this.#weights = o.targets.cluster ? CLUSTER_FAULT_WEIGHTS : FAULT_WEIGHTS;
  }

  /** Faults by kind. */
  counts(): Record<FaultKind, number> {
    const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    for (const f of this.log) out[f.kind]++;
    return out;
  }

  /**
   * Inject one fault after another until `signal` aborts; the fault under way is finished. The node
   * lane goes on past the signal until a Galera writer and a RabbitMQ node were killed and are back
   * (the run's verdict needs both), bounded by the faults' own waits.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.#startedAt = Date.now();
    await Promise.all([this.#processLane(signal), this.#nodeLane(signal)]);
  }

  async #processLane(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(between(this.#random, this.#everyMs / 2, (this.#everyMs * 3) / 2), signal).catch(() => {});
      if (signal.aborted) return;
      await this.restartCrashed();
      this.#round ??= firstRound(this.#weights, this.#random);
      const kind = this.#round.shift() ?? pickKind(this.#weights, this.#random);
      await this.#record(kind, () => this.#inject(kind));
    }
  }

  async #nodeLane(signal: AbortSignal): Promise<void> {
    const cluster = this.#t.cluster;
    if (!cluster) return;
    const r = this.#nodeRandom;
    const done = (): boolean =>
      cluster.writerKilled && this.log.some((f) => f.kind === 'kill-rabbitmq-node' && !f.error);
    for (let i = 0; !signal.aborted || !done(); i++) {
      if (i >= 20 && !done())
        throw new Error(
          'node lane: 20 node faults without a Galera writer and a RabbitMQ node killed and back',
        );
      await sleep(between(r, ...NODE_PAUSE_MS), signal).catch(() => {});
      const kind = NODE_FAULTS[i % NODE_FAULTS.length]!;
      await this.#record(kind, () => (kind === 'kill-galera-node' ? cluster.galera(r) : cluster.rabbit(r)));
    }
  }

  /** Inject one fault, log it and print it. */
  async #record(kind: FaultKind, inject: () => Promise<[string, string, number?]>): Promise<void> {
    const at = (Date.now() - this.#startedAt) / 1_000;
    const t0 = Date.now();
    let target = '';
    let detail = '';
    let connections: number | undefined;
    let error: string | undefined;
    try {
      [target, detail, connections] = await inject();
    } catch (err) {
      error = (err as Error).message.split('\n')[0]!.slice(0, 200);
    }
    const record: FaultRecord = {
      ...{ at, kind, target, detail, ms: Date.now() - t0 },
      ...(connections === undefined ? {} : { connections }),
      ...(error ? { error } : {}),
    };
    this.log.push(record);
    this.#say(
      `[fault ${String(this.log.length).padStart(3)}] t=${at.toFixed(1)}s ${kind} ${target}: ${error ? `FAILED ${error}` : detail} (${record.ms} ms)`,
    );
  }

  /** Restart processes that died on their own (a crash is reported, not hidden). */
  async restartCrashed(): Promise<void> {
    for (const name of this.#t.deployment.down()) {
      this.#say(`[chaos] ${name} exited on its own: restarting it`);
      await this.#t.deployment.restart(name);
    }
  }

  async #inject(kind: FaultKind): Promise<[string, string, number?]> {
    const r = this.#random;
    const d = this.#t.deployment;
    switch (kind) {
      case 'kill-process': {
        // A role first, then one of its processes: Harpoon is hit as often as all agents together.
        const role = pick(['harpoon', 'scheduler', 'router', 'agents', 'api'] as const, r);
        const name = pick(d.named(role), r);
        const downMs = between(r, 200, 3_000);
        await d.kill(name);
        await sleep(downMs);
        const t0 = Date.now();
        await d.restart(name);
        return [name, `SIGKILL, restarted after ${downMs} ms, ready in ${Date.now() - t0} ms`];
      }
      case 'kill-db-connections': {
        // In turn: Harpoon's, the polling router's, the schedulers' fleet pools'.
        const client = DB_CLIENTS[this.#dbKills++ % DB_CLIENTS.length]!;
        const killed = await this.#t.db.killConnections(client);
        return [`${client} connections`, `KILL CONNECTION ×${killed}`, killed];
      }
      case 'disconnect-agents': {
        const wanted = between(r, 5, 60);
        const draws = Array.from({ length: wanted }, () => r());
        const cut = await this.#disconnectAgents(draws);
        return [`${wanted} agents`, `${cut} agent connections reset (ss -K)`, cut];
      }
      case 'pause-agents': {
        const name = pick(d.named('agents'), r);
        const ms = AGENT_IDLE_TIMEOUT_MS + between(r, 1_000, 5_000);
        d.pause(name);
        await sleep(ms);
        d.resume(name);
        return [name, `SIGSTOP for ${ms} ms (routers drop an agent silent for ${AGENT_IDLE_TIMEOUT_MS} ms)`];
      }
      case 'pause-scheduler': {
        const name = pick(d.named('scheduler'), r);
        const ms = SCHEDULER_LEASE_MS + between(r, 1_000, 5_000);
        d.pause(name);
        await sleep(ms);
        d.resume(name);
        return [name, `SIGSTOP for ${ms} ms (its claims' lease is ${SCHEDULER_LEASE_MS} ms)`];
      }
      case 'restart-rabbitmq': {
        const downMs = between(r, 1_000, 6_000);
        await rabbitmqctl('stop_app');
        await sleep(downMs);
        await rabbitmqctl('start_app');
        return ['rabbitmq', `stop_app, ${downMs} ms down, start_app`];
      }
      case 'kill-galera-node':
      case 'kill-rabbitmq-node':
        throw new Error(`${kind} runs in the node lane`);
    }
  }

  /** Reset the agents' sides of as many router connections as `draws` picks (ss -K). */
  async #disconnectAgents(draws: readonly number[]): Promise<number> {
    const dports = this.#t.routerPorts.map((p) => `dport = :${p}`).join(' or ');
    const { stdout } = await run('ss', ['-tnH', 'state', 'established', `( ${dports} )`]);
    const ports = stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[2]?.split(':').pop())
      .filter((p): p is string => !!p)
      .sort();
    const chosen = [...new Set(draws.map((x) => ports[Math.floor(x * ports.length)]).filter(Boolean))];
    if (chosen.length === 0) return 0;
    const sports = chosen.map((p) => `sport = :${p}`).join(' or ');
    const { stdout: killed } = await run('ss', [
      '-tnHK',
      'state',
      'established',
      `( ${sports} ) and ( ${dports} )`,
    ]);
    return killed.split('\n').filter((l) => l.trim()).length;
  }
}

async function rabbitmqctl(command: string): Promise<void> {
  await run('rabbitmqctl', [command], { timeout: 120_000 });
}
