/**
 * `npm run bench -- scheduler [--quick] [--no-e2e]`: Scheduler V2 against the "Scheduler V1"
 * baseline (one thread, every server scored and sorted per request) on 10,000 servers, with every
 * built-in filter and a weighted mix of strategies including anti-affinity; then three scheduler
 * processes end to end on MariaDB.
 */
import { loadavg } from 'node:os';
import { table, writeReport } from './lib/report.js';
import { runE2e } from './lib/scheduler-e2e.js';
import { type RunResult, runBaseline, runV2 } from './lib/scheduler-inprocess.js';
import { type Mix, makeRequests, makeServers } from './lib/scheduler-workload.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const e2e = !args.includes('--no-e2e');
const SERVERS = 10_000;
const QUALITY_EVENTS = quick ? 2_000 : 8_000;
const THROUGHPUT_EVENTS = quick ? 30_000 : 100_000;
const E2E_EVENTS = quick ? 10_000 : 30_000;
const url = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
const loadBefore = load();
const servers = makeServers(SERVERS);
const log = (m: string) => process.stderr.write(`[scheduler bench] ${m}\n`);

/** Relative quality gap in % (positive: V2 worse); bin-pack by servers used, spread by σ of utilisation. */
function gap(mix: Mix, v2: RunResult, v1: RunResult): number {
  const [a, b] =
    mix === 'binpack' ? [v2.serversUsed, v1.serversUsed] : [v2.utilisationStd, v1.utilisationStd];
  return ((a - b) / b) * 100;
}

const mixes: Mix[] = ['spread', 'binpack'];
const rows: (string | number)[][] = [];
const gaps: number[] = [];
const baselineRates: number[] = [];
const v2Rates: number[] = [];
for (const mix of mixes) {
  const items = makeRequests(QUALITY_EVENTS, mix === 'spread' ? 2 : 5);
  log(`${mix}: ctlplane on ${QUALITY_EVENTS} requests`);
  const v2 = await runV2(mix, servers, items);
  log(`${mix}: baseline on ${QUALITY_EVENTS} requests`);
  const v1 = await runBaseline(mix, servers, items);
  const g = gap(mix, v2, v1);
  gaps.push(g);
  baselineRates.push(v1.perSecond);
  v2Rates.push(v2.perSecond);
  const cpuUs = (r: RunResult) => (r.cpuMs * 1_000) / (r.placed + r.failed);
  for (const [name, r] of [
    ['ctlplane Scheduler V2', v2],
    ['Scheduler V1 (baseline)', v1],
  ] as const) {
    rows.push([
      mix,
      name,
      Math.round(r.perSecond),
      Math.round(cpuUs(r)),
      r.placed,
      r.serversUsed,
      r.utilisationStd,
    ]);
  }
  rows.push([
    mix,
    'quality gap (V2 vs V1)',
    '',
    '',
    '',
    mix === 'binpack' ? `${g.toFixed(2)}%` : '',
    mix === 'spread' ? `${g.toFixed(2)}%` : '',
  ]);
}

// The machine is shared: three long runs, and the median counts.
const longRuns: RunResult[] = [];
for (let i = 0; i < 3; i++) {
  log(`throughput ${i + 1}/3: ctlplane on ${THROUGHPUT_EVENTS} requests (spread)`);
  longRuns.push(await runV2('spread', servers, makeRequests(THROUGHPUT_EVENTS, 7 + i)));
}
const long = [...longRuns].sort((a, b) => a.perSecond - b.perSecond)[1]!;
const baseline = baselineRates.reduce((a, b) => a + b, 0) / baselineRates.length;

let e2eResult: Awaited<ReturnType<typeof runE2e>> | null = null;
if (e2e) {
  log(`end to end: 3 processes on MariaDB, ${E2E_EVENTS} requests`);
  e2eResult = await runE2e(url, 'spread', SERVERS, E2E_EVENTS, { jitter: 5 });
}
const loadAfter = load();

const body = [
  `${SERVERS.toLocaleString('en-US')} servers in 4 regions (3 shapes, 50 racks per region, 10% with GPUs, 3% not active), overcommit cpu 4:1 and memory 1:1, live load pushed for every server (1% stale).`,
  'Requests: 1–8 cpu, 2–32 GiB, 5% needing a GPU label, 30% in anti-affinity groups of ~10.',
  'Filters: state, region, capacity, labels, metric staleness (exclude) and hard per-server anti-affinity. Strategies: least-allocated (spread) or most-allocated (bin-pack) ×3, balanced allocation ×1, live load ×0.5, rack anti-affinity ×1.',
  'Scheduler V1 scores and sorts every server for every request, one request at a time; both place through the same in-memory EventStore and Fleet. Times exclude the initial fleet load.',
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter} — the machine is shared, so absolute rates vary between runs.`,
  '',
  table(
    ['mix', 'scheduler', 'placements/s', 'CPU µs/placement', 'placed', 'servers used', 'utilisation σ (%)'],
    rows,
  ),
  '',
  table(
    ['run', 'requests', 'placements/s', 'CPU µs/placement'],
    longRuns.map((r, i) => [
      `ctlplane, spread, long run ${i + 1}${r === long ? ' (median)' : ''}`,
      THROUGHPUT_EVENTS,
      Math.round(r.perSecond),
      Math.round((r.cpuMs * 1_000) / THROUGHPUT_EVENTS),
    ]),
  ),
  '',
  e2eResult
    ? table(
        [
          'end to end (MariaDB, 3 processes)',
          'requests',
          'placed',
          'placements/s committed',
          'p50 ms',
          'p99 ms',
          'conflicts',
          'overcommitted servers',
          'double placements',
        ],
        [
          [
            'ctlplane, spread, jitter 5',
            e2eResult.events,
            e2eResult.placed,
            Math.round(e2eResult.perSecond),
            e2eResult.p50Ms,
            e2eResult.p99Ms,
            e2eResult.conflicts,
            e2eResult.overcommitted,
            e2eResult.doublePlacements,
          ],
        ],
      )
    : 'End to end skipped (`--no-e2e`).',
  '',
  e2eResult
    ? [
        `Where the three processes waited on MariaDB (summed over them; ${Math.round(e2eResult.wallMs).toLocaleString('en-US')} ms of wall time each), and their CPU: ${Math.round((e2eResult.schedulerCpuMs * 1_000) / e2eResult.events)} µs per placement, together.`,
        '',
        table(
          ['operation', 'round trips', 'ms waiting', 'ms per round trip'],
          Object.entries(e2eResult.roundTrips)
            .sort(([, a], [, b]) => b.ms - a.ms)
            .map(([op, t]) => [op, t.count, Math.round(t.ms), Number((t.ms / t.count).toFixed(1))]),
        ),
      ].join('\n')
    : '',
  '',
  `Targets: ≥ 20,000 placements/s in process (measured ${Math.round(long.perSecond).toLocaleString('en-US')}); ≥ 20× the baseline (measured ${(long.perSecond / baseline).toFixed(1)}×); quality within 2% of the full scan (worst gap ${Math.max(...gaps).toFixed(2)}%); end to end ≥ 5,000 placements/s committed (measured ${e2eResult ? Math.round(e2eResult.perSecond).toLocaleString('en-US') : 'n/a'}) with zero overcommit (measured ${e2eResult?.overcommitted ?? 'n/a'}).`,
].join('\n');

writeReport({
  name: 'scheduler',
  title: 'Scheduler V2: placements on 10,000 servers (`npm run bench -- scheduler`)',
  body,
  metrics: {
    placements_per_s: Math.round(long.perSecond),
    baseline_placements_per_s: Math.round(baseline),
    speedup_vs_baseline: Number((long.perSecond / baseline).toFixed(1)),
    quality_gap_pct: Number(Math.max(...gaps).toFixed(2)),
    same_run_placements_per_s: Math.round(v2Rates.reduce((a, b) => a + b, 0) / v2Rates.length),
    e2e_placements_per_s: e2eResult ? Math.round(e2eResult.perSecond) : -1,
    e2e_p99_ms: e2eResult ? e2eResult.p99Ms : -1,
    e2e_conflicts: e2eResult ? e2eResult.conflicts : -1,
    e2e_scheduler_cpu_us_per_placement: e2eResult
      ? Math.round((e2eResult.schedulerCpuMs * 1_000) / e2eResult.events)
      : -1,
    overcommitted_servers: e2eResult ? e2eResult.overcommitted : -1,
    double_placements: e2eResult ? e2eResult.doublePlacements : -1,
  },
});
process.exit(0);
