/**
 * The capacity benchmark's report: the breaking-point summary, every ramp step with the CPU of
 * each process and the load average, the docs/benchmarks.md section and bench/results/capacity.json.
 */
import type { HarpoonCapacity } from './capacity-harpoon.js';
import { label } from './capacity-proc.js';
import { fmtMs, type RampResult, type StepRecord } from './capacity-ramp.js';
import type { RouterCapacity } from './capacity-router.js';
import type { SchedulerCapacity } from './capacity-scheduler.js';
import { table } from './report.js';

/** Everything a run measured. */
export interface CapacityResult {
  quick: boolean;
  startedAt: string;
  seconds: number;
  harpoon: HarpoonCapacity | null;
  scheduler: SchedulerCapacity | null;
  router: RouterCapacity | null;
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const finite = (v: number) => (Number.isFinite(v) ? Math.round(v) : -1);

/** The knee as a phrase: "4,000 creates/s", "≥ 19,500 agents" (nothing broke), "< 500" (the first step broke). */
export function kneeText(r: RampResult | null | undefined): string {
  if (!r) return 'not run';
  if (r.steps.length === 0) return `not measured (${r.stoppedBy})`;
  if (r.knee === 0) return `< ${n(r.steps[0]!.load)} ${r.unit}`;
  return `${r.kneeIsLowerBound ? '≥ ' : ''}${n(r.knee)} ${r.unit}`;
}

function notes(s: StepRecord): string {
  const parts: string[] = [];
  const errs = Object.entries(s.errors).map(([k, v]) => `${k} ×${n(v)}`);
  if (errs.length > 0) parts.push(`failed: ${errs.join(', ')}`);
  if (s.retried) parts.push(`retried once, disrupted: ${s.disruption.join('; ')}`);
  for (const [k, v] of Object.entries(s.extra))
    parts.push(`${k} ${Number.isInteger(v) ? n(v) : v.toFixed(1)}`);
  return parts.join('; ');
}

/** One ramp as a table: a row per step. */
export function stepTable(r: RampResult, procs: readonly string[]): string {
  return table(
    [
      `offered ${r.unit}`,
      'achieved/s',
      'p50',
      'p99',
      'holds',
      ...procs.map((p) => `CPU ${label(p)} %`),
      'CPU machine %',
      'CPU others %',
      'iowait / steal %',
      'load avg',
      'notes',
    ],
    r.steps.map((s) => [
      n(s.load),
      n(s.achieved),
      fmtMs(s.p50),
      fmtMs(s.p99),
      s.holds ? 'yes' : '**no**',
      ...procs.map((p) => s.resources.cpu[p] ?? 0),
      s.resources.cpu.machine ?? 0,
      s.resources.cpu.other ?? 0,
      `${s.resources.iowaitPct} / ${s.resources.stealPct}`,
      s.resources.load1.join(' → '),
      notes(s),
    ]),
  );
}

/** The summary rows: component, knee, baseline, objective, what gave first. */
export function summaryRows(c: CapacityResult): (string | number)[][] {
  const row = (what: string, r: RampResult | null | undefined, base: RampResult | null | undefined) => [
    what,
    kneeText(r),
    base ? kneeText(base) : '–',
    r?.objective ?? '–',
    r?.gaveFirst ?? '–',
  ];
  const rt = c.router;
  return [
    row('Harpoon: creates/s per process (coalescing client)', c.harpoon?.harpoon, c.harpoon?.baseline),
    row(
      'Harpoon: creates/s per process (one request per create)',
      c.harpoon?.uncoalesced,
      c.harpoon?.baseline,
    ),
    row('(reference) the HTTP transport alone, one request per create', c.harpoon?.transport, null),
    row('Scheduler: placements/s per instance', c.scheduler?.v2, c.scheduler?.v1),
    row(`EventRouter: events/s per router (${n(rt?.settings.eventsAtAgents ?? 0)} agents)`, rt?.events, null),
    row(
      `EventRouter: agents per router (${n(rt?.settings.agentsAtRate ?? 0)} events/s)`,
      rt?.agents,
      rt?.baseline,
    ),
  ];
}

/** Bytes of router memory per connected agent: least-squares slope of `key` (MiB) over the agent steps (NaN if < 2). */
export function perAgent(r: RampResult | undefined, key = 'routerRssMiB'): number {
  const pts = (r?.steps ?? [])
    .filter((s) => (s.extra[key] ?? 0) > 0)
    .map((s) => [s.extra.connected ?? s.load, s.extra[key]! * 1024 * 1024] as const);
  if (pts.length < 2) return Number.NaN;
  const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length;
  const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
  const sxx = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx > 0 ? pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx : Number.NaN;
}

/** `extra[key]` of the knee's step, to 3 decimals (-1 when there is none). */
function atKnee(r: RampResult | null | undefined, key: string): number {
  const v = r?.steps.find((s) => s.load === r.knee)?.extra[key];
  return v === undefined ? -1 : Math.round(v * 1_000) / 1_000;
}

/** Flat metrics for bench/results/capacity.json (-1: not measured or failed). */
export function capacityMetrics(c: CapacityResult): Record<string, number> {
  const knee = (r: RampResult | null | undefined) => (r && r.steps.length > 0 ? r.knee : -1);
  const m: Record<string, number> = {
    harpoon_knee_events_per_s: knee(c.harpoon?.harpoon),
    harpoon_uncoalesced_knee_events_per_s: knee(c.harpoon?.uncoalesced),
    harpoon_baseline_knee_events_per_s: knee(c.harpoon?.baseline),
    http_transport_knee_requests_per_s: knee(c.harpoon?.transport),
    scheduler_knee_placements_per_s: knee(c.scheduler?.v2),
    scheduler_v1_knee_placements_per_s: knee(c.scheduler?.v1),
    router_knee_agents: knee(c.router?.agents),
    router_knee_agents_is_lower_bound: c.router?.agents.kneeIsLowerBound ? 1 : 0,
    router_knee_events_per_s: knee(c.router?.events),
    baseline_polling_max_agents: knee(c.router?.baseline),
    router_rss_bytes_per_agent: finite(perAgent(c.router?.agents)),
    router_heap_bytes_per_agent: finite(perAgent(c.router?.agents, 'routerHeapMiB')),
    harpoon_cpu_ms_per_create_at_knee: atKnee(c.harpoon?.harpoon, 'serverCpuMsPerRequest'),
    harpoon_uncoalesced_cpu_ms_per_create_at_knee: atKnee(c.harpoon?.uncoalesced, 'serverCpuMsPerRequest'),
    router_fd_limit: c.router?.settings.fdLimit ?? -1,
    run_seconds: Math.round(c.seconds),
    quick: c.quick ? 1 : 0,
  };
  const ramps: [string, RampResult | null | undefined, string][] = [
    ['harpoon', c.harpoon?.harpoon, 'harpoon'],
    ['harpoon_uncoalesced', c.harpoon?.uncoalesced, 'harpoon'],
    ['harpoon_baseline', c.harpoon?.baseline, ''],
    ['http_transport', c.harpoon?.transport, 'harpoon'],
    ['scheduler', c.scheduler?.v2, 'scheduler'],
    ['scheduler_v1', c.scheduler?.v1, 'scheduler'],
    ['router_events', c.router?.events, 'router'],
    ['router_agents', c.router?.agents, 'router'],
    ['baseline_polling', c.router?.baseline, ''],
  ];
  for (const [key, r, proc] of ramps) {
    for (const s of r?.steps ?? []) {
      const k = `${key}_step_${s.load}`;
      m[`${k}_achieved_per_s`] = Math.round(s.achieved);
      m[`${k}_p99_ms`] = Number.isFinite(s.p99) ? Math.round(s.p99) : -1;
      m[`${k}_holds`] = s.holds ? 1 : 0;
      if (proc) m[`${k}_cpu_${proc}_pct`] = s.resources.cpu[proc] ?? 0;
      m[`${k}_cpu_mariadb_pct`] = s.resources.cpu.mariadb ?? 0;
      m[`${k}_cpu_rabbitmq_pct`] = s.resources.cpu.rabbitmq ?? 0;
      m[`${k}_cpu_machine_pct`] = s.resources.cpu.machine ?? 0;
      m[`${k}_load1`] = s.resources.load1[1];
      if (s.extra.routerRssMiB !== undefined) m[`${k}_router_rss_mib`] = s.extra.routerRssMiB;
    }
  }
  return m;
}
