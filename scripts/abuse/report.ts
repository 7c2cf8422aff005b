/**
 * The abuse run's output: the verdict table printed, `bench/results/abuse.json`
 * (`abuse-quick.json` for `--quick`) and the run's section of docs/reliability.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { machine, table, writeDocSection } from '../../bench/lib/report.js';
import { type AttackRecord, BARS, hardPass, p99Pass, rssOver, rssPass, runMetrics } from './verdict.js';

const root = resolve(import.meta.dirname, '../..');
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/** What the whole run reports. */
export interface AbuseRun {
  readonly quick: boolean;
  readonly command: string;
  readonly seed: number;
  readonly loadAtStart: string;
  readonly baselineMiB: Readonly<Record<string, number>>;
  /** A run of some attacks only (`--only`): printed, not written over the whole runs' results. */
  readonly partial: boolean;
  /** The servers' glibc malloc settings (empty: glibc's defaults). */
  readonly serverMalloc: Readonly<Record<string, string>>;
  readonly durationS: number;
  readonly records: readonly AttackRecord[];
  /** Good-client failures outside every attack window (warm-up, between attacks). */
  readonly failuresOutside: number;
}

const mark = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
const mib = (x: number): string => x.toFixed(0);
/** `h +12, r -3`: RSS over baseline by server. */
const overText = (over: Readonly<Record<string, number>>): string =>
  Object.entries(over)
    .map(([s, x]) => `${s[0]} ${x >= 0 ? '+' : ''}${mib(x)}`)
    .join(', ');

/** PASS when every bar holds; HARD-FAIL names the hard bars. */
export function verdictOf(records: readonly AttackRecord[]): { hard: boolean; p99: boolean; rss: boolean } {
  return {
    hard: records.every(hardPass),
    p99: records.every(p99Pass),
    rss: records.every(rssPass),
  };
}

/**
 * Print, and (for a run of every attack) write the JSON and the docs section; returns the printed
 * lines.
 */
export function writeAbuseReport(r: AbuseRun): string[] {
  const tuned = Object.keys(r.serverMalloc).length > 0;
  const name = `abuse${r.quick ? '-quick' : ''}${tuned ? '' : '-malloc-default'}`;
  const malloc = tuned
    ? Object.entries(r.serverMalloc)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')
    : "glibc's defaults";
  const date = new Date().toISOString();
  const m = machine();
  const metrics = runMetrics(r.records);
  const v = verdictOf(r.records);
  const verdict =
    v.hard && v.p99 && v.rss ? 'PASS' : v.hard ? 'PASS on the hard bars, MISS on latency/memory' : 'FAIL';
  const json = {
    name,
    date,
    machine: m,
    command: r.command,
    load_avg: { at_start: r.loadAtStart, at_end: load() },
    verdict,
    bars: { good_client_p99_ms: `< ${BARS.p99Ms}`, rss_over_baseline_mib: `<= ${BARS.rssOverMiB}` },
    metrics,
    baseline_rss_mib: r.baselineMiB,
    server_malloc: r.serverMalloc,
    failures_outside_attacks: r.failuresOutside,
    duration_s: Math.round(r.durationS),
    attacks: r.records,
  };
  if (!r.partial) {
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  }

  const rows = r.records.map((a) => [
    `\`${a.name}\` (${a.finding})`,
    a.target,
    a.crashes,
    `${a.goodFailures} / ${a.goodOps}`,
    `${a.p99Ms} ${mark(p99Pass(a))}`,
    Object.entries(a.peakMiB)
      .map(([s, x]) => `${s[0]} ${mib(x)}`)
      .join(', '),
    `${overText(a.overMiB)} ${mark(rssPass(a))} (${a.settleS.toFixed(0)} s)`,
    overText(a.overEarlyMiB),
    a.relayStalls === 0 ? `0 (${a.probeMs} ms)` : `${a.relayStalls}`,
    a.misses.length === 0 ? '—' : a.misses.join('; '),
  ]);
  const base = Object.entries(r.baselineMiB)
    .map(([s, x]) => `${s} ${mib(x)} MiB`)
    .join(', ');
  const body = [
    `### ${r.quick ? 'CI-sized run (`--quick`)' : 'Full run'}${tuned ? '' : " with glibc's malloc defaults (`--malloc default`)"}: ${verdict}`,
    '',
    `- date: ${date}`,
    `- machine: ${m}`,
    `- load average (1 / 5 / 15 min): ${r.loadAtStart} at the start, ${load()} at the end`,
    `- command: \`${r.command}\` (fast-check seed ${r.seed}); ${r.records.length} attacks in ${r.durationS.toFixed(0)} s`,
    `- baseline RSS after the warm-up: ${base}; good-client failures outside the attacks: ${r.failuresOutside}`,
    `- the servers' malloc settings: ${malloc}`,
    '',
    table(
      ['metric', 'value', 'bar'],
      [
        ['crashes (server processes that exited)', metrics.crashes, 'must be 0'],
        ['good_client_failures', metrics.good_client_failures, 'must be 0'],
        ['relay_stalls (probe change not on the bus within 10 s)', metrics.relay_stalls, 'must be 0'],
        [
          'expectation_misses (a bound that did not hold as documented)',
          metrics.expectation_misses,
          'must be 0',
        ],
        [
          'good_client_p99_ms (worst attack)',
          `${metrics.good_client_p99_ms} ${mark(v.p99)}`,
          `< ${BARS.p99Ms}`,
        ],
        [
          'rss_over_baseline_mib (worst attack, worst server, after the settle)',
          `${metrics.rss_over_baseline_mib} ${mark(v.rss)}`,
          `≤ ${BARS.rssOverMiB}`,
        ],
        [
          `rss_over_baseline_at_30s_mib (the same ${r.quick ? 4 : 30} s into each settle)`,
          metrics.rss_over_baseline_at_30s_mib,
          'not a bar',
        ],
      ],
    ),
    '',
    `Per attack (h = Harpoon, r = router; RSS in MiB; p99 over the good client's create, get and delivery during the attack and the first ${r.quick ? 4 : 30} s of its settle; "after" is RSS minus the baseline once the attack stopped and the servers settled (within the bar, or at most ${r.quick ? 4 : 90} s), with how long that took; "at ${r.quick ? 4 : 30} s" the same that long into the settle, for comparison):`,
    '',
    table(
      [
        'attack (finding)',
        'target',
        'crashes',
        'good failures / ops',
        'good p99 ms',
        'peak RSS',
        'after − baseline (settle)',
        `at ${r.quick ? 4 : 30} s − baseline`,
        'relay stalls (probe)',
        'misses',
      ],
      rows,
    ),
    '',
    '<details><summary>What each attack did and saw</summary>',
    '',
    ...r.records.flatMap((a) => [
      `- **${a.name}** (finding ${a.finding}, ${a.durationS.toFixed(1)} s, settle ${a.settleS.toFixed(1)} s): ${a.what}.`,
      ...a.notes.map((n) => `  - ${n}`),
      `  - good client p99 by operation: ${Object.entries(a.p99ByOpMs)
        .map(([op, ms]) => `${op} ${ms} ms`)
        .join(', ')}`,
      ...a.failureExamples.map((f) => `  - good client failure: ${f}`),
    ]),
    '',
    '</details>',
  ].join('\n');
  if (!r.partial) writeDocSection(join(root, 'docs', 'reliability.md'), `abuse:${name}`, body);
  return body.split('\n');
}

export { rssOver };
