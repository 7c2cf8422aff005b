/**
 * The compact live summary printed while the cloud runs, and the final report.
 */
import type { EventRouter, Fleet, Scheduler } from '@ctlplane/core';
import type { ConnectionCount } from './backend.js';
import type { StatusTally } from './tally.js';
import type { DropletTypes } from './types.js';
import type { Workload } from './workload.js';

/** The median and 99th percentile of the last placement latencies. */
export class LatencyWindow {
  readonly #values: number[] = [];

  constructor(scheduler: Scheduler<DropletTypes>) {
    scheduler.on('scheduler:placed', (e) => {
      this.#values.push(e.latencyMs);
      if (this.#values.length > 2_000) this.#values.shift();
    });
  }

  /** `p50/p99` in ms, or `-` before any placement. */
  describe(): string {
    if (this.#values.length === 0) return '-';
    const s = [...this.#values].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
    return `${at(0.5)}/${at(0.99)} ms`;
  }
}

/** What one summary line is made of. */
export interface SummarySources {
  readonly started: number;
  readonly workload: Workload;
  readonly tally: StatusTally;
  readonly latency: LatencyWindow;
  readonly routers: readonly EventRouter[];
  readonly db: readonly ConnectionCount[];
  readonly fleet: Fleet;
  readonly overcommit: number;
  readonly regions: readonly string[];
}

const pct = (n: number) => `${Math.round(n * 100)}%`;

/** One line: requests, events per status, placement latency, connections, utilisation per region. */
export async function summaryLine(s: SummarySources): Promise<string> {
  const w = s.workload.stats;
  const c = s.tally.counts();
  const agents = s.routers.reduce((n, r) => n + r.stats().agentsConnected, 0);
  const db = s.db.reduce((n, x) => n + x.count(), 0);
  const byRegion = new Map<string, [number, number]>();
  for (const server of await s.fleet.list()) {
    const [used, cap] = byRegion.get(server.region) ?? [0, 0];
    byRegion.set(server.region, [
      used + (server.allocated.cpu ?? 0),
      cap + (server.capacity.cpu ?? 0) * s.overcommit,
    ]);
  }
  const util = [...byRegion]
    .sort(([a], [b]) => s.regions.indexOf(a) - s.regions.indexOf(b))
    .map(([r, [used, cap]]) => `${r} ${pct(cap ? used / cap : 0)}`)
    .join(' ');
  const secs = String(Math.round((Date.now() - s.started) / 1_000)).padStart(4);
  const unit = s.db[0]?.unit === 'mysql connections' ? 'db conns' : 'db clients (memory)';
  return [
    `[${secs}s] req ${w.created} booted ${w.booted} failed ${w.failed} destroyed ${w.destroyed} in-flight ${w.outstanding}`,
    `events pending ${c.pending} placed ${c.placed} running ${c.claimed + c.running} done ${c.done} failed ${c.failed}`,
    `place p50/p99 ${s.latency.describe()}`,
    `${agents} agents -> ${db} ${unit}`,
    `cpu ${util}`,
  ].join(' | ');
}

/** The final report of a run: every droplet done or failed, with the reasons. */
export function finalReport(workload: Workload, unfinishedOk = false): { lines: string[]; ok: boolean } {
  const w = workload.stats;
  const lines = [
    `droplets requested ${w.created}: booted ${w.booted}, failed ${w.failed}, cancelled ${w.cancelled}, ` +
      `unfinished ${w.outstanding}; destroys requested ${w.destroyRequested}, destroyed ${w.destroyed}; rejected ${w.rejected}`,
  ];
  for (const [reason, n] of [...w.failures].sort((a, b) => b[1] - a[1]))
    lines.push(`  failed x${n}: ${reason}`);
  const reasonless = w.failures.get('(no reason given)') ?? 0;
  const ok = (unfinishedOk || w.outstanding === 0) && reasonless === 0;
  return { lines, ok };
}
