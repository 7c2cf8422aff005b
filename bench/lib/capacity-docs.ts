/**
 * The measured block of docs/capacity.md: the breaking points of this run, with machine, date and
 * command, and the sizing arithmetic for a fleet, computed from the measured knees so the advice
 * always matches the table above it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CapacityResult, summaryRows } from './capacity-report.js';
import { machine, table } from './report.js';

const root = resolve(import.meta.dirname, '../..');
const START = '<!-- capacity:measured:start -->';
const END = '<!-- capacity:measured:end -->';
const n = (v: number) => Math.round(v).toLocaleString('en-US');
/** Each instance is planned at this share of its measured knee. */
export const HEADROOM = 0.5;

/** A fleet to size: servers, regions, events per server per second. */
interface Scenario {
  name: string;
  servers: number;
  regions: number;
  perServer: number;
}

const SCENARIOS: Scenario[] = [
  { name: '15,000 servers, steady', servers: 15_000, regions: 5, perServer: 0.01 },
  { name: '15,000 servers, busy', servers: 15_000, regions: 5, perServer: 0.1 },
  { name: '50,000 servers, busy', servers: 50_000, regions: 10, perServer: 0.1 },
];

/** A metric of an earlier benchmark's results (NaN when missing). */
function earlier(name: string, key: string): number {
  try {
    const j = JSON.parse(readFileSync(join(root, `bench/results/${name}.json`), 'utf8'));
    return Number(j.metrics[key]);
  } catch {
    return Number.NaN;
  }
}

/** `⌈load ÷ (HEADROOM × knee)⌉`, shown with its arithmetic; n/a when the knee is unknown. */
function need(load: number, knee: number, spare = 1): { count: number; text: string } {
  if (!(knee > 0)) return { count: Number.NaN, text: 'n/a (no step held)' };
  const count = Math.ceil(load / (knee * HEADROOM)) + spare;
  return { count, text: `⌈${n(load)} ÷ ${n(knee * HEADROOM)}⌉${spare ? ` + ${spare}` : ''} = ${count}` };
}

/** The sizing table and its arithmetic, from the run's metrics. */
export function sizing(m: Record<string, number>): string {
  const kh = m.harpoon_knee_events_per_s!;
  const ku = m.harpoon_uncoalesced_knee_events_per_s ?? -1;
  const kt = m.http_transport_knee_requests_per_s!;
  const ks = m.scheduler_knee_placements_per_s!;
  const ka = m.router_knee_agents!;
  const ke = m.router_knee_events_per_s!;
  const kb = m.baseline_polling_max_agents!;
  const commit = earlier('harpoon', 'harpoon_eps');
  const relay = earlier('harpoon', 'relay_eps');
  const rows = SCENARIOS.map((s) => {
    const e = s.servers * s.perServer;
    const perRegion = s.servers / s.regions;
    const regionRate = e / s.regions;
    const byCommit = need(e, commit, 0);
    const byRelay = need(e * 4, relay, 0);
    const shards = Math.max(1, byCommit.count || 1, byRelay.count || 1);
    const harpoons = need(e, kh);
    const perRequest = need(e, ku);
    const schedulers = need(e, ks);
    const routers = need(perRegion, ka);
    const replicas = Math.max(2, routers.count);
    const conns = (harpoons.count + schedulers.count) * 4;
    const perShard = Math.ceil(conns / shards);
    return [
      s.name,
      `${n(s.servers)} × ${s.perServer} = ${n(e)}/s`,
      `${shards}: commits ${byCommit.text}; relay ${byRelay.text}`,
      harpoons.text,
      perRequest.text,
      schedulers.text,
      `${routers.text}, at least 2 → ${Number.isFinite(replicas) ? replicas : 'n/a'} per region × ${s.regions}; region feed ${n(regionRate)}/s ${ke > 0 ? (regionRate <= ke * HEADROOM ? `≤ ${n(ke * HEADROOM)}: fits` : `> ${n(ke * HEADROOM)}: **split the region or use the pushed input**`) : ''}`,
      Number.isFinite(conns)
        ? `${n(conns)} in all, ${n(perShard)} per shard${perShard > 151 ? ' (**above the default max_connections 151**)' : ''}; agents polling instead: ${n(s.servers)}${kb > 0 ? ` (${Math.ceil(s.servers / kb)} × the ${n(kb)} one MariaDB served here)` : ''}`
        : 'n/a',
      `${n(e * 4)} msg/s, ${n((e * 4) / shards)} per shard's relay`,
    ];
  });
  const httpBound = ku > 0 && kt > 0 && kt <= ku * 2;
  const cpuMs = m.harpoon_cpu_ms_per_create_at_knee!;
  const perCore = cpuMs > 0 ? 1_000 / cpuMs : Number.NaN;
  return [
    `Each process is planned at ${HEADROOM * 100} % of its measured knee (room for bursts, a lost instance, noisy neighbours), plus one spare. Events per server per second: 0.01 is one request per server every 100 s, 0.1 one every 10 s. Every event is one \`create\` call through Harpoon's HTTP API, made with the coalescing HarpoonClient (its defaults: concurrent calls share one request; the "Harpoon processes" column, from its knee${kh > 0 ? ` of ${n(kh)}/s` : ''}) or with \`coalesce: false\`, one request per call (the next column, from its knee${ku > 0 ? ` of ${n(ku)}/s` : ''}), and about 4 changes on the bus (created, placed, running, done); transitions reach Harpoon in batches and are left out. All Harpoon processes of one events table commit through one MariaDB and one relay publishes its changes, so the table is split into **shards** (region groups, each its own table prefix or database, Harpoon processes and relay) when the creates exceed ${HEADROOM * 100} % of what Harpoon commits on one MariaDB${Number.isFinite(commit) ? ` (${n(commit)}/s in process, without HTTP: harpoon benchmark)` : ''} or the changes exceed ${HEADROOM * 100} % of one relay's rate${Number.isFinite(relay) ? ` (${n(relay)} confirmed messages/s, harpoon benchmark)` : ''}.${httpBound ? ` One request per create is within 2× of what the bare HTTP transport sustained on this machine (${n(kt)}/s): without coalescing, the count of Harpoon processes is the count of HTTP servers needed; coalescing divides the requests by the calls each carries.` : ''}${Number.isFinite(perCore) ? ` At its knee the Harpoon process used ${cpuMs.toFixed(2)} ms of CPU per create (HTTP, validation, group commit, relay): a Harpoon process with a core of its own would saturate near ${n(perCore)} creates/s — an estimate, not a measurement, and the table keeps the measured knee.` : ''}`,
    '',
    table(
      [
        'fleet',
        'creates/s',
        'events-table shards',
        'Harpoon processes (coalescing client)',
        'Harpoon processes (one request per create)',
        'scheduler instances',
        'routers (agents per router)',
        'MariaDB connections',
        'RabbitMQ',
      ],
      rows,
    ),
  ].join('\n');
}

/** Replace the measured block of docs/capacity.md (created with just that block if missing). */
export function writeCapacityDoc(c: CapacityResult, m: Record<string, number>): void {
  const path = join(root, 'docs', 'capacity.md');
  const command = process.env.CTLPLANE_BENCH_COMMAND ?? 'npm run bench -- capacity';
  const block = [
    START,
    `- date: ${new Date().toISOString()}`,
    `- machine: ${machine()} — shared with other work (see the load average per step in [benchmarks](benchmarks.md#capacity-where-each-component-breaks-npm-run-bench----capacity))`,
    `- command: \`${command}\`${c.quick ? ' (quick run: coarse, for development)' : ''}; the run took ${n(c.seconds)} s`,
    '',
    table(
      ['component', 'knee (ctlplane)', 'knee (baseline)', 'objective', 'what gave first'],
      summaryRows(c),
    ),
    '',
    `Router memory: ${m.router_rss_bytes_per_agent! > 0 ? `${n(m.router_rss_bytes_per_agent!)} bytes of RSS per connected agent` : 'not measured'}; open-files limit per process on this machine: ${n(m.router_fd_limit!)}.`,
    '',
    '### Sizing, computed from the knees above',
    '',
    sizing(m),
    END,
  ].join('\n');
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : `# Capacity\n\n${START}\n${END}\n`;
  if (!doc.includes(START)) doc = `${doc.trimEnd()}\n\n${START}\n${END}\n`;
  doc = doc.replace(new RegExp(`${START}[\\s\\S]*?${END}`), block);
  writeFileSync(path, doc);
}
