/**
 * `npm run bench -- store [--quick]`: the EventStore on memory and MariaDB side by side, against
 * the 2012 design (one event per transaction, `SELECT … FOR UPDATE` without SKIP LOCKED), the
 * naive SKIP LOCKED claim and plain multi-row INSERTs, in one run; with a profile of where
 * claim + complete spends its time (round trips, CPU of MariaDB and of Node, lock waits, index
 * entries written per event). `--mysql <url>,<url>,…` runs it all on a Galera cluster's writer node
 * and reports as `store-cluster` (bench/lib/mysql-target.ts).
 */
import { loadavg } from 'node:os';
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import { type TestStore, testTypes } from '../test/contract/event-store.fixtures.js';
import { createUser } from './lib/capacity-shared.js';
import { mysqlTarget, targetPool } from './lib/mysql-target.js';
import { type Profile, probe } from './lib/probe.js';
import { percentile, table, writeReport } from './lib/report.js';
import { benchUserUrl } from './lib/router-shared.js';
import {
  BASELINE_DDL,
  type BaselineStats,
  baselineAppend,
  baselineWorker,
  rawInsertRate,
} from './lib/store-baseline.js';
import { indexEntriesPerLifecycle } from './lib/store-index-entries.js';
import { appendRate, claimRate, feedLatency, fill } from './lib/store-runs.js';
import { dropTables } from './lib/tables.js';

const target = mysqlTarget(process.argv);
const url = target.url;
const quick = process.argv.includes('--quick');
const scale = quick ? 0.2 : 1;
const n = (x: number) => Math.max(100, Math.round(x * scale));
const admin = targetPool(target, { connectionLimit: 4, multipleStatements: true });
const prefixes: string[] = [];
/** The store's own MySQL user: the profile reads the CPU of its server threads only. */
const USER = 'ctl_bench_store';
const storeUrl = target.urls.map((u) => benchUserUrl(u, USER)).join(',');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
const loadBefore = load();
const log = (m: string) => process.stderr.write(`[store bench] ${m}\n`);

async function mysqlStore(poolSize = 8): Promise<TestStore> {
  const tablePrefix = `bench_${Math.random().toString(36).slice(2, 8)}_`;
  prefixes.push(tablePrefix);
  await migrate({ url, tablePrefix });
  return new EventStore({
    driver: new MysqlEventStoreDriver({ url: storeUrl, tablePrefix, poolSize }),
    types: testTypes,
  });
}
const memoryStore = (): TestStore =>
  new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });

async function baselineRates(workers: number, total: number, skipLocked: boolean) {
  const t = `bench_baseline_${skipLocked ? 'sl' : 'fu'}`;
  for (const sql of BASELINE_DDL(t)) await admin.query(sql);
  const payload = JSON.stringify({ vcpus: 1, memoryMb: 1024, image: 'ubuntu-24.04' });
  const pool = targetPool(target, { connectionLimit: workers + 1 });
  const seeded = Math.min(total, n(2_000));
  const t0 = performance.now();
  for (let i = 0; i < seeded; i++) await baselineAppend(pool, t, payload);
  const appendEps = seeded / ((performance.now() - t0) / 1000);
  await admin.query(
    `INSERT INTO ${t} (type, region, server_id, status, payload, created_at, updated_at) SELECT type, region, server_id, status, payload, created_at, updated_at FROM ${t} LIMIT ?`,
    [Math.max(0, total - seeded)],
  );
  const stats: BaselineStats = { done: 0, deadlocks: 0, lockWaitTimeouts: 0, doubleClaims: 0 };
  const seen = new Set<number>();
  const t1 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      baselineWorker(pool, t, `w${w}`, skipLocked, stats, seen, skipLocked ? 50 : 1),
    ),
  );
  const eps = stats.done / ((performance.now() - t1) / 1000);
  await pool.end();
  await admin.query(`DROP TABLE ${t}`);
  return { appendEps, eps, ...stats };
}

const rows: (string | number)[][] = [];
const claimRows: (string | number)[][] = [];
const profileRows: (string | number)[][] = [];
const m: Record<string, number> = {};
await createUser(admin, USER, 0);

// Appends: the store in batches of 1, 100 and 1,000 from 4 callers; plain INSERTs beside it.
for (const batch of [1, 100, 1_000]) {
  const total = batch === 1 ? n(5_000) : batch === 100 ? n(50_000) : n(200_000);
  const mem = memoryStore();
  const memEps = await appendRate(mem, batch, total);
  await mem.close();
  const my = await mysqlStore();
  const myEps = await appendRate(my, batch, total);
  await my.close();
  rows.push([`append, batches of ${batch}`, memEps, myEps]);
  m[`memory_append_batch${batch}_eps`] = Math.round(memEps);
  m[`mysql_append_batch${batch}_eps`] = Math.round(myEps);
  log(`append batch ${batch}: memory ${memEps.toFixed(0)}/s, mysql ${myEps.toFixed(0)}/s`);
}
{
  const my = await mysqlStore();
  await my.close();
  const raw = targetPool(target, { connectionLimit: 4 });
  const rawEps = await rawInsertRate(raw, `\`${prefixes.at(-1)}events\``, 1_000, n(200_000), 4);
  await raw.end();
  m.raw_insert_batch1000_eps = Math.round(rawEps);
  m.append_vs_raw_insert_ratio = Number((m.mysql_append_batch1000_eps! / rawEps).toFixed(2));
  log(`raw insert batch 1000: ${rawEps.toFixed(0)}/s`);
}

// Claim + complete: 1, 8 and 32 workers claiming without a server, then 8 and 32 naming one of 50.
const profiles: [string, Profile][] = [];
for (const [workers, byServer] of [
  [1, false],
  [8, false],
  [32, false],
  [8, true],
  [32, true],
] as const) {
  const total = n(workers === 1 ? 10_000 : 20_000);
  const label = `${workers} worker(s)${byServer ? ', each claim naming one of 50 servers' : ''}`;
  const key = `${workers}w${byServer ? '_by_server' : ''}`;
  const mem = memoryStore();
  await fill(mem, total);
  const mr = await claimRate(mem, workers, total, byServer);
  await mem.close();
  const my = await mysqlStore(Math.min(workers, 16));
  await fill(my, total);
  let profile: Profile | undefined;
  const yr = await claimRate(my, workers, total, byServer, async (fn) => {
    profile = await probe(admin, USER, total, fn);
  });
  await my.close();
  if (profile) profiles.push([label, profile]);
  rows.push([`claim + complete, ${label}`, mr.eps, yr.eps]);
  claimRows.push([
    `ctlplane, ${label}`,
    yr.eps,
    yr.emptyClaims,
    yr.doubleClaims,
    yr.retriedDeadlocks,
    yr.unretriedDeadlocks,
  ]);
  m[`memory_claim_complete_${key}_eps`] = Math.round(mr.eps);
  m[`mysql_claim_complete_${key}_eps`] = Math.round(yr.eps);
  m.double_claims = (m.double_claims ?? 0) + yr.doubleClaims + mr.doubleClaims;
  m.unretried_deadlocks = (m.unretried_deadlocks ?? 0) + yr.unretriedDeadlocks;
  m.retried_deadlocks = (m.retried_deadlocks ?? 0) + yr.retriedDeadlocks;
  log(
    `claim ${label}: memory ${mr.eps.toFixed(0)}/s, mysql ${yr.eps.toFixed(0)}/s ${JSON.stringify(profile)}`,
  );
}
const base = await baselineRates(8, n(4_000), false);
const naive = await baselineRates(8, n(20_000), true);
log(`baseline ${JSON.stringify(base)} naive skip locked ${JSON.stringify(naive)}`);
claimRows.push([
  '2012 design: FOR UPDATE, 1 event/tx, 8 workers',
  base.eps,
  '-',
  base.doubleClaims,
  '-',
  base.deadlocks,
]);
claimRows.push([
  'naive SKIP LOCKED on ix_status, no feed, 8 workers',
  naive.eps,
  '-',
  naive.doubleClaims,
  '-',
  naive.deadlocks,
]);
m.baseline_claim_complete_8w_eps = Math.round(base.eps);
m.baseline_append_eps = Math.round(base.appendEps);
m.naive_skip_locked_8w_eps = Math.round(naive.eps);
m.naive_skip_locked_deadlocks = naive.deadlocks;
m.claim_vs_baseline_ratio = Number((m.mysql_claim_complete_8w_eps! / base.eps).toFixed(2));
m.claim_vs_naive_ratio = Number((m.mysql_claim_complete_8w_eps! / naive.eps).toFixed(2));
for (const [label, p] of profiles) {
  profileRows.push([
    label,
    p.roundTripsPer1k,
    p.dbCpuMsPer1k,
    p.nodeCpuMsPer1k,
    p.lockWaitsPer1k,
    p.lockWaitMsPer1k,
  ]);
}
const at8 = profiles.find(([l]) => l === '8 worker(s)')?.[1];
if (at8) {
  m.round_trips_per_1k_events = at8.roundTripsPer1k;
  m.db_cpu_ms_per_1k_events = at8.dbCpuMsPer1k;
  m.node_cpu_ms_per_1k_events = at8.nodeCpuMsPer1k;
}
const entries = await indexEntriesPerLifecycle(admin, `${prefixes.at(-1)}events`);
m.index_entries_per_lifecycle = entries.entries;

// Feed latency: a follower on its own pool, polling every 10 ms, at 1,000 appends/s.
const memStore = memoryStore();
const memLat = await feedLatency(memStore, memStore, quick ? 2 : 5, 10);
await memStore.close();
const writer = await mysqlStore(4);
const reader = new EventStore({
  driver: new MysqlEventStoreDriver({ url: storeUrl, tablePrefix: prefixes.at(-1)!, poolSize: 1 }),
  types: testTypes,
});
const myLat = await feedLatency(writer, reader, quick ? 2 : 5, 10);
await Promise.all([writer.close(), reader.close()]);
rows.push(['feed latency p50 (ms) at 1,000 events/s', percentile(memLat, 50), percentile(myLat, 50)]);
rows.push(['feed latency p99 (ms) at 1,000 events/s', percentile(memLat, 99), percentile(myLat, 99)]);
m.memory_feed_p99_ms = percentile(memLat, 99);
m.mysql_feed_p50_ms = percentile(myLat, 50);
m.mysql_feed_p99_ms = percentile(myLat, 99);

for (const p of prefixes) await dropTables(admin, p);
await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
await admin.end();

const meets = (ok: boolean) => (ok ? 'met' : '**missed**');
const body = [
  `Throughput in events/s unless marked. ${target.cluster ? `Every pool of the run (the store's and the baselines') writes through the writer node of a ${target.urls.length}-node MariaDB Galera cluster (\`npm run cluster -- up\`: all nodes on this machine, \`innodb_flush_log_at_trx_commit = 2\`, synchronous replication to the other nodes at each commit)` : 'MariaDB runs on the same 2-core machine as the benchmark'}. Load average (1/5/15 min) when the run began: ${loadBefore}; when it ended: ${load()}.`,
  'The MariaDB follower is a separate store instance (its own pool) polling every 10 ms; the memory follower is woken by commits.',
  '',
  table(['operation', 'memory', 'MariaDB'], rows),
  '',
  `Plain multi-row INSERTs of 1,000 rows into the same events table from 4 connections (no feed, no validation): **${m.raw_insert_batch1000_eps} rows/s**; the store's append in batches of 1,000 from 4 callers is ${m.append_vs_raw_insert_ratio}× that.`,
  '',
  'Claim + complete on MariaDB against the baselines (same run; claims of up to 50 events per transaction):',
  '',
  table(
    ['design', 'events/s', 'empty claims', 'double claims', 'deadlocks retried', 'deadlocks surfaced'],
    claimRows,
  ),
  '',
  "Where claim + complete spends its time, per 1,000 events (round trips: query packets sent; MariaDB CPU: the server threads of the store's own MySQL user; lock waits: server-wide `Innodb_row_lock_waits` / `_time`):",
  '',
  table(
    ['workers', 'round trips', 'MariaDB CPU ms', 'Node CPU ms', 'row-lock waits', 'lock wait ms'],
    profileRows,
  ),
  '',
  `Secondary-index entries written per event lifecycle (append + claim + complete; an insert writes one per index, a change two in each index holding a rewritten column): **${entries.entries}**, over ${entries.indexes.join(', ')}.`,
  '',
  table(
    ['target (issue 14)', 'measured', 'result'],
    [
      [
        'claim + complete, 8 workers ≥ naive SKIP LOCKED at 8 workers',
        `${m.mysql_claim_complete_8w_eps} vs ${m.naive_skip_locked_8w_eps}`,
        meets(m.mysql_claim_complete_8w_eps! >= m.naive_skip_locked_8w_eps),
      ],
      [
        '32 workers ≥ 8 workers',
        `${m.mysql_claim_complete_32w_eps} vs ${m.mysql_claim_complete_8w_eps}`,
        meets(m.mysql_claim_complete_32w_eps! >= m.mysql_claim_complete_8w_eps!),
      ],
      [
        'append (batches of 1,000) ≥ 0.9 × raw INSERT',
        `${m.append_vs_raw_insert_ratio}×`,
        meets(m.append_vs_raw_insert_ratio >= 0.9),
      ],
      ['feed p99 ≤ 50 ms at 1,000 events/s', `${m.mysql_feed_p99_ms} ms`, meets(m.mysql_feed_p99_ms <= 50)],
      [
        'double claims, unretried deadlocks = 0',
        `${m.double_claims}, ${m.unretried_deadlocks}`,
        meets(m.double_claims === 0 && m.unretried_deadlocks === 0),
      ],
    ],
  ),
].join('\n');
writeReport(
  target.cluster
    ? {
        name: 'store-cluster',
        title: `EventStore on a ${target.urls.length}-node Galera cluster (\`npm run bench -- store --mysql <node list>\`)`,
        body,
        metrics: m,
      }
    : { name: 'store', title: 'EventStore (`npm run bench -- store`)', body, metrics: m },
);
