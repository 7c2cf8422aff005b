/**
 * What the dashboard shows, sampled once a second: the fleet's utilisation per hypervisor, events
 * per status over time, router connections against database connections, and explanations.
 */
import type { EventRouter, Fleet, Server } from '@ctlplane/core';
import type { ConnectionCount } from '../backend.js';
import type { StatusCounts, StatusTally } from '../tally.js';
import type { Workload } from '../workload.js';
import type { ExplainedRequest, Explainer } from './explainer.js';

/** One hypervisor cell of the grid. */
export interface Cell {
  readonly id: string;
  readonly util: number;
  readonly cpu: readonly [number, number];
  readonly memory: readonly [number, number];
  readonly state: string;
}

/** Everything the page renders. */
export interface Snapshot {
  readonly at: number;
  readonly uptimeS: number;
  readonly backends: string;
  readonly regions: readonly { readonly name: string; readonly cells: readonly Cell[] }[];
  readonly counts: StatusCounts;
  readonly history: readonly { readonly at: number; readonly counts: StatusCounts }[];
  readonly connections: {
    readonly agents: number;
    readonly routers: number;
    readonly db: number;
    readonly dbUnit: string;
    readonly history: readonly { readonly agents: number; readonly db: number }[];
  };
  readonly workload: {
    readonly created: number;
    readonly booted: number;
    readonly failed: number;
    readonly p50BootMs: number | null;
  };
  readonly explanations: readonly ExplainedRequest[];
}

/** Sources of a snapshot. */
export interface StateSources {
  readonly fleet: Fleet;
  readonly overcommit: number;
  readonly regions: readonly string[];
  readonly routers: readonly EventRouter[];
  readonly db: readonly ConnectionCount[];
  readonly tally: StatusTally;
  readonly explainer: Explainer;
  readonly workload: Workload | null;
  readonly backends: string;
}

const HISTORY = 120;

/** Median of a list, or null. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Builds snapshots and keeps two minutes of history. */
export class DashboardState {
  readonly #s: StateSources;
  readonly #started = Date.now();
  readonly #history: { at: number; counts: StatusCounts }[] = [];
  readonly #connections: { agents: number; db: number }[] = [];

  constructor(sources: StateSources) {
    this.#s = sources;
  }

  /** Take a sample and return the snapshot. */
  async sample(): Promise<Snapshot> {
    const s = this.#s;
    const servers = await s.fleet.list();
    const counts = s.tally.counts();
    const agents = s.routers.reduce((n, r) => n + r.stats().agentsConnected, 0);
    const db = s.db.reduce((n, c) => n + c.count(), 0);
    push(this.#history, { at: Date.now(), counts });
    push(this.#connections, { agents, db });
    const w = s.workload?.stats;
    return {
      at: Date.now(),
      uptimeS: Math.round((Date.now() - this.#started) / 1_000),
      backends: s.backends,
      regions: s.regions.map((name) => ({
        name,
        cells: servers.filter((x) => x.region === name).map((x) => cell(x, s.overcommit)),
      })),
      counts,
      history: this.#history,
      connections: {
        agents,
        routers: s.routers.length,
        db,
        dbUnit: s.db[0]?.unit ?? 'connections',
        history: this.#connections,
      },
      workload: {
        created: w?.created ?? 0,
        booted: w?.booted ?? 0,
        failed: w?.failed ?? 0,
        p50BootMs: median(w?.bootLatencies ?? []),
      },
      explanations: s.explainer.latest(),
    };
  }
}

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > HISTORY) list.shift();
}

function cell(s: Server, overcommit: number): Cell {
  const cpu: [number, number] = [s.allocated.cpu ?? 0, s.capacity.cpu ?? 0];
  const memory: [number, number] = [s.allocated.memory ?? 0, s.capacity.memory ?? 0];
  const u = Math.max(cpu[1] ? cpu[0] / (cpu[1] * overcommit) : 0, memory[1] ? memory[0] / memory[1] : 0);
  return { id: s.id, util: Math.round(u * 1_000) / 1_000, cpu, memory, state: s.state };
}
