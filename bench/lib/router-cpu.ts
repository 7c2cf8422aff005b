/**
 * CPU used per process during a benchmark phase, from /proc (Linux): how busy the router, the
 * agents, MariaDB and RabbitMQ were, and the machine as a whole.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

function ticks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

function machineBusy(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0); // minus idle and iowait
}

/** The pid of the first process matching `pattern` (pgrep -f), or 0. */
export function pidOf(pattern: string): number {
  try {
    return Number(execSync(`pgrep -o -f ${JSON.stringify(pattern)}`, { encoding: 'utf8' }).trim()) || 0;
  } catch {
    return 0;
  }
}

/** Start measuring; the returned function gives each process's CPU use in % of one core since. */
export function cpuMeter(pids: Record<string, number>): () => Record<string, number> {
  const t0 = Date.now();
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, ticks(pid)]));
  const m0 = machineBusy();
  return () => {
    const seconds = (Date.now() - t0) / 1_000;
    const out: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids))
      out[k] = Math.round(((ticks(pid) - start[k]!) / TICK / seconds) * 100);
    out.machine = Math.round(((machineBusy() - m0) / TICK / seconds) * 100);
    return out;
  };
}
