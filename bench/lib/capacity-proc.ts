/**
 * What each capacity step cost the machine, sampled from /proc (Linux): CPU per process (through
 * router-cpu's meter), resident memory, iowait and steal of the whole machine, the load average,
 * and whether MariaDB or RabbitMQ restarted during the step (other work on the machine may restart them).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { cpuMeter, pidOf } from './router-cpu.js';

/** The resources a step used. CPU in % of one core; memory in MiB. */
export interface StepResources {
  /** Per named process, plus `machine` (every process) and `other` (machine minus the named ones). */
  cpu: Record<string, number>;
  /** Resident set size per named process at the end of the step. */
  rssMiB: Record<string, number>;
  /** % of the machine's CPU time spent waiting for I/O, and stolen by the hypervisor. */
  iowaitPct: number;
  stealPct: number;
  /** 1-minute load average at the start and end of the step. */
  load1: [number, number];
  /** `mariadb` / `rabbitmq` when its pid changed during the step (a restart). */
  restarted: string[];
}

function jiffies(): number[] {
  return readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
}

/** VmRSS of `pid` in MiB (0 when it is gone). */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** The database and broker processes every step watches. */
export function servicePids(): Record<'mariadb' | 'rabbitmq', number> {
  return { mariadb: pidOf('mariadbd'), rabbitmq: pidOf('beam.smp') };
}

/**
 * Start measuring `pids` (named ctlplane and load processes; MariaDB and RabbitMQ are added);
 * the returned function ends the measurement.
 */
export function probe(pids: Record<string, number>): () => StepResources {
  const services = servicePids();
  const all = { ...pids, ...services };
  const cpu = cpuMeter(all);
  const j0 = jiffies();
  const load0 = loadavg()[0]!;
  return () => {
    const used = cpu();
    const j1 = jiffies();
    const d = j1.map((v, i) => v - (j0[i] ?? 0));
    const total = d.reduce((a, b) => a + b, 0) || 1;
    const named = Object.keys(all).reduce((n, k) => n + (used[k] ?? 0), 0);
    const now = servicePids();
    return {
      cpu: { ...used, other: Math.max(0, (used.machine ?? 0) - named) },
      rssMiB: Object.fromEntries(Object.entries(all).map(([k, pid]) => [k, rssMiB(pid)])),
      iowaitPct: Math.round(((d[4] ?? 0) / total) * 100),
      stealPct: Math.round(((d[7] ?? 0) / total) * 100),
      load1: [round1(load0), round1(loadavg()[0]!)],
      restarted: (['mariadb', 'rabbitmq'] as const).filter((k) => now[k] !== services[k]),
    };
  };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** CPU cores of the machine, as the whole-machine percentage that means "all busy". */
export function machineCapacityPct(): number {
  return cpus().length * 100;
}

/**
 * What gave first at a step that broke the objective, by a fixed rule (stated in the report):
 * 1. a ctlplane process at ≥ 85 % of one core (Node runs the component on one thread); then a
 *    load-generating process (callers, simulated agents) at ≥ 85 %: the benchmark's own limit;
 * 2. else the machine at ≥ 85 % of all its cores: the largest consumer is named;
 * 3. else iowait ≥ 20 % (commit fsyncs), or MariaDB or RabbitMQ as the busiest process at ≥ 85 %;
 * 4. else a ctlplane process above `memoryLimitMiB` resident;
 * 5. else none saturated: the limit is latency inside the design (queueing, polling, round trips).
 */
export function whatGaveFirst(
  r: StepResources,
  ctlplane: readonly string[],
  load: readonly string[] = [],
  memoryLimitMiB = 4_096,
): string {
  const pct = (k: string) => r.cpu[k] ?? 0;
  const hottest = (names: readonly string[]) =>
    names.filter((k) => pct(k) >= 85).sort((a, b) => pct(b) - pct(a))[0];
  const hot = hottest(ctlplane);
  if (hot) return `CPU of the ${hot} process (${pct(hot)} % of one core; Node runs it on one thread)`;
  const gen = hottest(load);
  if (gen) {
    const own = ctlplane.map((k) => `${k} ${pct(k)} %`).join(', ');
    return `CPU of the load generator's ${gen} process (${pct(gen)} % of one core): the benchmark's client gave first${own ? `, the component had room (${own})` : ''}`;
  }
  const machine = pct('machine');
  const cap = machineCapacityPct();
  const consumers = Object.keys(r.cpu)
    .filter((k) => k !== 'machine')
    .sort((a, b) => pct(b) - pct(a));
  const top = consumers[0] ?? 'none';
  const second = consumers[1];
  if (machine >= cap * 0.85) {
    return `CPU of the machine (${machine} % of ${cap} %; most: ${label(top)} ${pct(top)} %${second ? `, ${label(second)} ${pct(second)} %` : ''})`;
  }
  if (r.iowaitPct >= 20) return `MariaDB's disk (iowait ${r.iowaitPct} %: commit fsyncs)`;
  if ((top === 'mariadb' || top === 'rabbitmq') && pct(top) >= 85)
    return `${label(top)} (${pct(top)} % CPU, the busiest process)`;
  const big = ctlplane.find((k) => (r.rssMiB[k] ?? 0) > memoryLimitMiB);
  if (big) return `memory of the ${big} process (${r.rssMiB[big]} MiB resident)`;
  return `no resource saturated (machine ${machine} % of ${cap} %): latency inside the design`;
}

/** Display names of the processes. */
export function label(k: string): string {
  return k === 'mariadb' ? 'MariaDB (mariadbd)' : k === 'rabbitmq' ? 'RabbitMQ (beam.smp)' : k;
}

/** The whole machine's CPU over the next `ms`, in % of one core. */
async function machineBusyPct(ms: number): Promise<number> {
  const a = jiffies();
  await new Promise((r) => setTimeout(r, ms));
  const d = jiffies().map((v, i) => v - (a[i] ?? 0));
  const total = d.reduce((x, y) => x + y, 0) || 1;
  return Math.round(((total - (d[3] ?? 0) - (d[4] ?? 0)) / total) * cpus().length * 100);
}

/**
 * Wait (at most `maxMs`) until the whole machine is below `pct` % of one core over a second:
 * other work on this shared machine comes in bursts. Returns how long it waited and the last sample.
 */
export async function waitForQuiet(maxMs: number, pct = 60): Promise<{ waitedMs: number; busyPct: number }> {
  const t0 = Date.now();
  let busy = await machineBusyPct(1_000);
  while (busy >= pct && Date.now() - t0 < maxMs) busy = await machineBusyPct(1_000);
  return { waitedMs: Date.now() - t0, busyPct: busy };
}
