/**
 * The chaos run's output: the verdict printed, `bench/results/chaos.json` (`chaos-quick.json` for
 * `--quick`, `chaos-cluster.json` for `--cluster`), and the run's section of docs/reliability.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { machine, table, writeDocSection } from '../../bench/lib/report.js';
import type { CheckResult } from './checker.js';
import type { ReplicationCheck } from './cluster-setup.js';
import { FAULT_KINDS, type FaultKind, type FaultRecord, NODE_FAULTS } from './faults.js';

const root = resolve(import.meta.dirname, '../..');

/** Everything a run reports. */
export interface ChaosRun {
  readonly quick: boolean;
  readonly seed: number;
  readonly command: string;
  readonly requests: number;
  readonly accepted: number;
  readonly abandoned: number;
  readonly retries: number;
  readonly destroys: number;
  readonly durationS: number;
  readonly settleS: number;
  /** The most the settle could take. */
  readonly settleLimitS: number;
  readonly faults: readonly FaultRecord[];
  readonly crashes: Record<string, number>;
  readonly observed: { messages: number; repeats: number };
  readonly check: CheckResult;
  /** On the Galera and RabbitMQ clusters (`--cluster`). */
  readonly cluster: boolean;
  /** The feed follower by cursor: positions it read, failed reads, and the gaps it was left with. */
  readonly feed: { seen: number; errors: number; gaps: readonly number[] };
  /** On the clusters: the deployment's queues as listed after the faults (replicas on each node?). */
  readonly replication: ReplicationCheck | null;
  /** The machine's load average (1, 5, 15 min) when the stream ended. */
  readonly load: readonly number[];
}

/** The five numbers of the checker that must be zero (and `feed_gaps`). */
export const VERDICT_KEYS = ['lost', 'double_placed', 'overcommitted', 'stuck', 'phantom_done'] as const;

/** The kinds a run of this mode can inject: no single-broker restart on the clusters, no node kill off them. */
export function faultKinds(cluster: boolean): FaultKind[] {
  const nodes: readonly FaultKind[] = NODE_FAULTS;
  return FAULT_KINDS.filter((k) => (cluster ? k !== 'restart-rabbitmq' : !nodes.includes(k)));
}

/** Nodes killed and restarted (the fault done, the node back), by cluster; writers among Galera's. */
export function nodeKills(faults: readonly FaultRecord[]): {
  galera: number;
  galeraWriter: number;
  rabbitmq: number;
} {
  const ok = faults.filter((f) => !f.error);
  const galera = ok.filter((f) => f.kind === 'kill-galera-node');
  return {
    galera: galera.length,
    galeraWriter: galera.filter((f) => f.target.endsWith('(writer)')).length,
    rabbitmq: ok.filter((f) => f.kind === 'kill-rabbitmq-node').length,
  };
}

/**
 * True when every verdict number and the feed gaps are zero and every request was accepted; on the
 * clusters, also at least one Galera writer and one RabbitMQ node killed and restarted.
 */
export function passed(r: ChaosRun): boolean {
  const kills = nodeKills(r.faults);
  return (
    VERDICT_KEYS.every((k) => r.check[k] === 0) &&
    r.feed.gaps.length === 0 &&
    r.abandoned === 0 &&
    r.faults.length > 0 &&
    (!r.cluster || (kills.galeraWriter > 0 && kills.rabbitmq > 0))
  );
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
const s1 = (ms: number): string => `${(ms / 1_000).toFixed(1)} s`;

/** What was measured of one kind of fault across the run. */
function measured(kind: FaultKind, faults: readonly FaultRecord[]): string {
  const ok = faults.filter((f) => f.kind === kind && !f.error);
  if (ok.length === 0) return 'not drawn in this run';
  const ms = ok.map((f) => f.ms);
  const conns = ok.reduce((n, f) => n + (f.connections ?? 0), 0);
  const targets = [...new Set(ok.map((f) => f.target))].sort().join(', ');
  switch (kind) {
    case 'kill-process':
      return `${targets}; whole again (killed, restarted, ready) after ${s1(median(ms))} median, ${s1(Math.max(...ms))} max`;
    case 'kill-db-connections':
      return `${conns} connections killed (${targets})`;
    case 'disconnect-agents':
      return `${conns} agent connections reset`;
    case 'pause-agents':
    case 'pause-scheduler':
      return `${targets}; paused ${s1(median(ms))} median`;
    case 'restart-rabbitmq':
      return `broker away ${s1(median(ms))} median (stop_app to start_app done), ${s1(Math.max(...ms))} max`;
    case 'kill-galera-node':
    case 'kill-rabbitmq-node':
      return `${targets}; killed to back in the cluster ${s1(median(ms))} median, ${s1(Math.max(...ms))} max`;
  }
}

/** Print, and write the JSON and the docs section. */
export function writeChaosReport(r: ChaosRun): string[] {
  const name = r.cluster ? 'chaos-cluster' : r.quick ? 'chaos-quick' : 'chaos';
  const date = new Date().toISOString();
  const m = machine();
  const kinds = faultKinds(r.cluster);
  const counts = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<FaultKind, number>;
  const failedInjections = { ...counts };
  for (const f of r.faults) {
    counts[f.kind]++;
    if (f.error) failedInjections[f.kind]++;
  }
  const c = r.check;
  const verdict = passed(r) ? 'PASS' : 'FAIL';
  const kills = nodeKills(r.faults);
  const metrics = {
    seed: r.seed,
    ...(r.cluster
      ? {
          galera_nodes_killed: kills.galera,
          galera_writers_killed: kills.galeraWriter,
          rabbitmq_nodes_killed: kills.rabbitmq,
          queues_checked: r.replication?.queues ?? 0,
          queues_not_replicated: r.replication?.notReplicated.length ?? 0,
        }
      : {}),
    faults_injected: r.faults.length,
    requests: r.requests,
    lost: c.lost,
    double_placed: c.double_placed,
    overcommitted: c.overcommitted,
    stuck: c.stuck,
    duplicates_delivered: c.duplicates_delivered,
    phantom_done: c.phantom_done,
    feed_gaps: r.feed.gaps.length,
    feed_positions_seen: r.feed.seen,
    feed_read_errors: r.feed.errors,
    double_booted: c.double_booted,
    unpublished: c.unpublished,
    leaked_reservations: c.leaked_reservations,
    unreserved: c.unreserved,
    accepted: r.accepted,
    abandoned: r.abandoned,
    retries: r.retries,
    destroys: r.destroys,
    events: c.events,
    crashes: Object.values(r.crashes).reduce((n, x) => n + x, 0),
    duration_s: Math.round(r.durationS),
    settle_s: Math.round(r.settleS),
    load_avg_1m: Number(r.load[0]?.toFixed(2) ?? 0),
    ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [`faults_${k.replaceAll('-', '_')}`, v])),
  };
  const json = {
    name,
    date,
    machine: m,
    command: r.command,
    verdict,
    ...metrics,
    metrics,
    faults: counts,
    by_status: c.byStatus,
    examples: { ...c.examples, ...(r.feed.gaps.length ? { feed_gaps: r.feed.gaps.slice(0, 10) } : {}) },
    crashes: r.crashes,
    ...(r.replication ? { replication: r.replication } : {}),
    fault_log: r.faults,
  };
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);

  const faultRows = (Object.keys(counts) as FaultKind[]).map((k) => [
    k,
    counts[k],
    failedInjections[k],
    measured(k, r.faults),
  ]);
  const verdictRows: (string | number)[][] = [
    ['lost (acknowledged requests with no event)', c.lost, 'must be 0'],
    ['double_placed (events run, reserved or seen on two servers)', c.double_placed, 'must be 0'],
    ['overcommitted (servers over capacity × overcommit, reserved or running)', c.overcommitted, 'must be 0'],
    [
      `stuck (not done, failed or cancelled at the end; settling took ${r.settleS.toFixed(0)} s of the ${r.settleLimitS} s allowed)`,
      c.stuck,
      'must be 0',
    ],
    ['phantom_done (done in the database, never booted by an agent)', c.phantom_done, 'must be 0'],
    [
      `feed_gaps (positions in the table a follower by cursor read past without seeing; ${r.feed.seen.toLocaleString('en-US')} seen, ${r.feed.errors} failed reads retried)`,
      r.feed.gaps.length,
      'must be 0',
    ],
    ...(r.cluster
      ? [
          [
            'Galera nodes killed and back Synced (writers among them) / RabbitMQ nodes killed and back',
            `${kills.galera} (${kills.galeraWriter}) / ${kills.rabbitmq}`,
            'at least 1 writer / 1',
          ],
        ]
      : []),
    [
      'duplicates_delivered (events an agent received again)',
      c.duplicates_delivered,
      'counted; handled idempotently',
    ],
    ['double_booted (a droplet booted twice)', c.double_booted, 'counted'],
    ['unpublished (final versions the relay never published)', c.unpublished, 'counted'],
    ['leaked_reservations / unreserved droplets', `${c.leaked_reservations} / ${c.unreserved}`, 'counted'],
  ];
  const statusLine = Object.entries(c.byStatus)
    .map(([s, n]) => `${n.toLocaleString('en-US')} ${s}`)
    .join(', ');
  const crashLine = Object.keys(r.crashes).length
    ? Object.entries(r.crashes)
        .map(([p, n]) => `${p} ×${n}`)
        .join(', ')
    : 'none';
  const body = [
    `### ${r.cluster ? `On the clusters (\`--cluster${r.quick ? ' --quick' : ''}\`)` : r.quick ? 'CI-sized run (`--quick`)' : 'Full run'}: ${verdict}`,
    '',
    `- date: ${date}`,
    `- machine: ${m}; load average when the stream ended ${r.load.map((x) => x.toFixed(2)).join(' / ')}`,
    `- command: \`${r.command}\` (seed ${r.seed})`,
    `- ${r.requests.toLocaleString('en-US')} create requests, ${r.accepted.toLocaleString('en-US')} acknowledged (${r.retries.toLocaleString('en-US')} retried attempts, ${r.abandoned} abandoned), ${r.destroys.toLocaleString('en-US')} destroys; ${c.events.toLocaleString('en-US')} events: ${statusLine}`,
    `- ${r.faults.length} faults in ${r.durationS.toFixed(0)} s; then ${r.settleS.toFixed(0)} s to settle. Processes that exited on their own: ${crashLine}. The observer saw ${r.observed.messages.toLocaleString('en-US')} published changes (${r.observed.repeats.toLocaleString('en-US')} repeats).`,
    ...(r.replication
      ? [
          `- Queues of the deployment after the faults: ${r.replication.queues}, ${r.replication.notReplicated.length === 0 ? 'every one a quorum queue with a member on each of the 3 nodes' : `not replicated on every node: ${r.replication.notReplicated.join('; ')}`}${r.replication.notOnline.length ? `; members not online: ${r.replication.notOnline.join('; ')}` : ''}.`,
        ]
      : []),
    '',
    table(['fault', 'injected', 'injection failed', 'measured'], faultRows),
    '',
    'The faults overlap the whole stream, so their result is one verdict for all of them:',
    '',
    table(['check', 'count', 'rule'], verdictRows),
    '',
    '<details><summary>Fault log</summary>',
    '',
    '```text',
    ...r.faults.map(
      (f, i) =>
        `${String(i + 1).padStart(3)} t=${f.at.toFixed(1)}s ${f.kind} ${f.target}: ${f.error ? `FAILED ${f.error}` : f.detail} (${f.ms} ms)`,
    ),
    '```',
    '',
    '</details>',
  ].join('\n');
  writeDocSection(join(root, 'docs', 'reliability.md'), `chaos:${name}`, body);
  return body.split('\n');
}
