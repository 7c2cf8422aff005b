/**
 * The processes of the chaos deployment: which run, with which flags, and how a fault kills,
 * restarts, pauses and resumes one. Each process's output goes to its own log file.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { type Child, startRole } from '../multi-process/children.js';
import type { DbClient } from './database.js';

/** Regions of the deployment and hypervisors per region: 2 × 250 = 500 servers. */
export const REGIONS = ['nyc1', 'sfo3'] as const;
export const HYPERVISORS_PER_REGION = 250;
/** Agents processes, each running every n-th hypervisor. */
export const AGENT_SHARDS = 5;
/** Router heartbeat (the example's routers tell agents 2 s), so an idle agent is closed after 6 s. */
export const AGENT_IDLE_TIMEOUT_MS = 6_000;
/** The schedulers' lease on claimed events in this deployment. */
export const SCHEDULER_LEASE_MS = 5_000;
/** The router replicas: 0 reads through Harpoon and is pushed changes; 1 polls MariaDB. */
export const ROUTER_REPLICAS = 2;

/** One process of the deployment. */
export interface ProcessSpec {
  /** Unique name, e.g. `scheduler-2`. */
  readonly name: string;
  /** The droplet-cloud role it runs. */
  readonly role: 'harpoon' | 'scheduler' | 'router' | 'agents' | 'api';
  /** Its MariaDB user (the URL it gets); every role needs one on its command line. */
  readonly db: DbClient;
  /** Flags beyond the common ones. */
  readonly args: readonly string[];
}

/** Every process: Harpoon, two schedulers, two router replicas, the agents shards, the API. */
export function processSpecs(): ProcessSpec[] {
  return [
    { name: 'harpoon', role: 'harpoon', db: 'harpoon', args: [] },
    { name: 'scheduler-1', role: 'scheduler', db: 'fleet', args: [] },
    { name: 'scheduler-2', role: 'scheduler', db: 'fleet', args: [] },
    { name: 'router-0', role: 'router', db: 'router', args: ['--router-replica', '0'] },
    {
      name: 'router-1',
      role: 'router',
      db: 'router',
      args: ['--router-replica', '1', '--router-source', 'mysql'],
    },
    ...Array.from({ length: AGENT_SHARDS }, (_, i) => ({
      name: `agents-${i}`,
      role: 'agents' as const,
      db: 'router' as const,
      args: ['--agent-shard', `${i}/${AGENT_SHARDS}`],
    })),
    { name: 'api', role: 'api', db: 'harpoon', args: [] },
  ];
}

interface Slot {
  readonly spec: ProcessSpec;
  readonly metricsPort: number;
  readonly log: WriteStream;
  child: Child | null;
  paused: boolean;
  /** Exits nobody asked for: the process died on its own. */
  crashes: number;
  /** True while its current child has exited on its own and was not restarted yet. */
  down: boolean;
}

/** The running deployment. */
export class Deployment {
  readonly #slots = new Map<string, Slot>();
  readonly #common: readonly string[];
  readonly #urls: Readonly<Record<DbClient, string>>;
  readonly #env: Readonly<Record<string, string>>;

  constructor(o: {
    dir: string;
    common: readonly string[];
    urls: Readonly<Record<DbClient, string>>;
    env: Readonly<Record<string, string>>;
    metricsPortBase: number;
  }) {
    this.#common = o.common;
    this.#urls = o.urls;
    this.#env = o.env;
    mkdirSync(join(o.dir, 'logs'), { recursive: true });
    processSpecs().forEach((spec, i) => {
      const log = createWriteStream(join(o.dir, 'logs', `${spec.name}.log`), { flags: 'a' });
      this.#slots.set(spec.name, {
        spec,
        metricsPort: o.metricsPortBase + i,
        log,
        child: null,
        paused: false,
        crashes: 0,
        down: false,
      });
    });
  }

  /** Names of every process, in start order. */
  get names(): string[] {
    return [...this.#slots.keys()];
  }

  /** Names of the processes running `role`. */
  named(role: ProcessSpec['role']): string[] {
    return [...this.#slots.values()].filter((s) => s.spec.role === role).map((s) => s.spec.name);
  }

  /** Start everything: Harpoon first, then the schedulers and routers, the agents, the API. */
  async start(): Promise<void> {
    await this.restart('harpoon');
    await Promise.all([...this.named('scheduler'), ...this.named('router')].map((n) => this.restart(n)));
    await Promise.all(this.named('agents').map((n) => this.restart(n)));
    await this.restart('api');
  }

  /** Start `name` (again), retrying a failed start up to 3 times; resolves once it is ready. */
  async restart(name: string): Promise<void> {
    const slot = this.#slot(name);
    const { spec } = slot;
    const write = (line: string): void => void slot.log.write(`${new Date().toISOString()} ${line}\n`);
    for (let attempt = 1; ; attempt++) {
      try {
        slot.child = await startRole(
          spec.role,
          ['--mysql', this.#urls[spec.db], ...this.#common, ...spec.args],
          this.#env,
          slot.metricsPort,
          write,
          90_000,
        );
        slot.paused = false;
        slot.down = false;
        const child = slot.child;
        void child.exited.then((code) => {
          if (slot.child !== child) return; // killed or stopped on purpose
          slot.crashes++;
          slot.down = true;
          write(`[chaos] exited on its own with code ${code}`);
        });
        return;
      } catch (err) {
        write(`start attempt ${attempt} failed: ${(err as Error).message}`);
        if (attempt >= 3) throw new Error(`${name} did not start: ${(err as Error).message}`);
      }
    }
  }

  /** SIGKILL `name` and wait until it is gone. */
  async kill(name: string): Promise<void> {
    const slot = this.#slot(name);
    const child = slot.child;
    if (!child) return;
    slot.child = null;
    slot.log.write(`${new Date().toISOString()} [chaos] SIGKILL\n`);
    process.kill(child.pid, 'SIGKILL');
    await child.exited;
  }

  /** SIGSTOP `name` (it keeps its sockets but answers nothing). */
  pause(name: string): void {
    const slot = this.#slot(name);
    if (!slot.child) return;
    slot.log.write(`${new Date().toISOString()} [chaos] SIGSTOP\n`);
    process.kill(slot.child.pid, 'SIGSTOP');
    slot.paused = true;
  }

  /** SIGCONT `name`. */
  resume(name: string): void {
    const slot = this.#slot(name);
    if (!slot.child || !slot.paused) return;
    process.kill(slot.child.pid, 'SIGCONT');
    slot.paused = false;
    slot.log.write(`${new Date().toISOString()} [chaos] SIGCONT\n`);
  }

  /** Processes whose current child exited on its own (a crash) and that were not restarted yet. */
  down(): string[] {
    return [...this.#slots.values()].filter((s) => s.down).map((s) => s.spec.name);
  }

  /** Exits on their own, by process name (only those with any). */
  crashes(): Record<string, number> {
    return Object.fromEntries(
      [...this.#slots.values()].filter((s) => s.crashes > 0).map((s) => [s.spec.name, s.crashes]),
    );
  }

  /** SIGTERM every process in reverse start order; resolves with `name: code` of each. */
  async stop(): Promise<string[]> {
    const out: string[] = [];
    for (const name of [...this.names].reverse()) {
      const slot = this.#slot(name);
      if (slot.paused) this.resume(name);
      const child = slot.child;
      slot.child = null;
      const code = child ? await child.stop() : null;
      out.push(`${name}: ${child ? `exit ${code}` : 'not running'}`);
      slot.log.end();
    }
    return out;
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name);
    if (!slot) throw new Error(`no process named ${name}`);
    return slot;
  }
}
