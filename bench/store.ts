/**
 * `npm run bench -- store [--quick]`: the EventStore on memory and MariaDB side by side, against
 * the 2012 design (one event per transaction, `SELECT … FOR UPDATE` without SKIP LOCKED) and the
 * naive SKIP LOCKED claim, in one run.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import { createPool } from 'mysql2/promise';
import { create, type TestStore, testTypes } from '../test/contract/event-store.fixtures.js';
import { percentile, table, writeReport } from './lib/report.js';
import { BASELINE_DDL, type BaselineStats, baselineAppend, baselineWorker } from './lib/store-baseline.js';

const url = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const quick = process.argv.includes('--quick');
const scale = quick ? 0.2 : 1;
const n = (x: number) => Math.max(100, Math.round(x * scale));
const admin = createPool({ uri: url, connectionLimit: 4, multipleStatements: true });
const prefixes: string[] = [];

async function mysqlStore(poolSize = 8): Promise<TestStore> {
  const tablePrefix = `bench_${Math.random().toString(36).slice(2, 8)}_`;
  prefixes.push(tablePrefix);
  await migrate({ url, tablePrefix });
  return new EventStore({
    driver: new MysqlEventStoreDriver({ url, tablePrefix, poolSize }),
    types: testTypes,
  });
}
const memoryStore = (): TestStore =>
  new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });

async function appendRate(store: TestStore, batch: number, total: number, concurrency = 4): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += batch;
        await store.append(Array.from({ length: batch }, (_, i) => create(i)));
      }
    }),
  );
  return (Math.ceil(total / batch) * batch) / ((performance.now() - t0) / 1000);
}

interface ClaimResult {
  eps: number;
  doubleClaims: number;
  unretriedDeadlocks: number;
  retriedDeadlocks: number;
}

async function claimRate(store: TestStore, workers: number, total: number): Promise<ClaimResult> {
  for (let i = 0; i < total; i += 1_000) {
    await store.append(
      Array.from({ length: Math.min(1_000, total - i) }, (_, j) => create(j, { serverId: `hv-${j % 50}` })),
    );
  }
  const seen = new Set<number>();
  const r: ClaimResult = { eps: 0, doubleClaims: 0, unretriedDeadlocks: 0, retriedDeadlocks: 0 };
  store.on('store:retry', (e) => {
    if (/deadlock/i.test(e.error.message)) r.retriedDeadlocks++;
  });
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (done < total) {
        try {
          const batch = await store.claim({ owner: `w${w}`, limit: 50, leaseMs: 60_000 });
          if (batch.length === 0) continue;
          for (const e of batch) {
            if (seen.has(e.id)) r.doubleClaims++;
            seen.add(e.id);
          }
          await store.transitionMany(
            batch.map((e) => ({ id: e.id, version: e.version, to: 'done' as const })),
          );
          done += batch.length;
        } catch (err) {
          if (/deadlock/i.test((err as Error).message)) r.unretriedDeadlocks++;
          else throw err;
        }
      }
    }),
  );
  r.eps = total / ((performance.now() - t0) / 1000);
  return r;
}

async function feedLatency(
  writer: TestStore,
  reader: TestStore,
  seconds: number,
  pollMs: number,
): Promise<number[]> {
  const latencies: number[] = [];
  const controller = new AbortController();
  const follower = (async () => {
    for await (const page of reader.follow(await reader.head(), { pollMs, signal: controller.signal })) {
      const now = Date.now();
      for (const e of page.events) latencies.push(now - e.createdAt.getTime());
    }
  })();
  const end = Date.now() + seconds * 1000;
  for (let tick = Date.now(); tick < end; tick += 10) {
    await writer.append(Array.from({ length: 10 }, (_, i) => create(i)));
    const wait = tick + 10 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 200));
  controller.abort();
  await follower;
  return latencies;
}

async function baselineRates(workers: number, total: number, skipLocked: boolean) {
  const t = `bench_baseline_${skipLocked ? 'sl' : 'fu'}`;
  for (const sql of BASELINE_DDL(t)) await admin.query(sql);
  const payload = JSON.stringify(create(0).payload);
  const pool = createPool({ uri: url, connectionLimit: workers + 1 });
  const t0 = performance.now();
  for (let i = 0; i < Math.min(total, n(2_000)); i++) await baselineAppend(pool, t, payload);
  const appendEps = Math.min(total, n(2_000)) / ((performance.now() - t0) / 1000);
  await admin.query(
    `INSERT INTO ${t} (type, region, server_id, status, payload, created_at, updated_at) SELECT type, region, server_id, status, payload, created_at, updated_at FROM ${t} LIMIT ?`,
    [Math.max(0, total - n(2_000))],
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

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  const m: Record<string, number> = {};
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
    console.error(`append batch ${batch}: memory ${memEps.toFixed(0)}/s, mysql ${myEps.toFixed(0)}/s`);
  }
  const claimRows: (string | number)[][] = [];
  for (const workers of [1, 8, 32]) {
    const total = n(workers === 1 ? 10_000 : 20_000);
    const mem = memoryStore();
    const mr = await claimRate(mem, workers, total);
    await mem.close();
    const my = await mysqlStore(Math.min(workers, 16));
    const yr = await claimRate(my, workers, total);
    await my.close();
    rows.push([`claim + complete, ${workers} worker(s)`, mr.eps, yr.eps]);
    claimRows.push([
      `ctlplane, ${workers} worker(s)`,
      yr.eps,
      yr.doubleClaims,
      yr.retriedDeadlocks,
      yr.unretriedDeadlocks,
    ]);
    m[`memory_claim_complete_${workers}w_eps`] = Math.round(mr.eps);
    m[`mysql_claim_complete_${workers}w_eps`] = Math.round(yr.eps);
    m.double_claims = (m.double_claims ?? 0) + yr.doubleClaims + mr.doubleClaims;
    m.unretried_deadlocks = (m.unretried_deadlocks ?? 0) + yr.unretriedDeadlocks;
    m.retried_deadlocks = (m.retried_deadlocks ?? 0) + yr.retriedDeadlocks;
    console.error(`claim ${workers}w: memory ${mr.eps.toFixed(0)}/s, mysql ${yr.eps.toFixed(0)}/s`, yr);
  }
  const base = await baselineRates(8, n(4_000), false);
  const naive = await baselineRates(8, n(20_000), true);
  console.error('baseline', base, 'naive skip locked', naive);
  claimRows.push([
    '2012 design: FOR UPDATE, 1 event/tx, 8 workers',
    base.eps,
    base.doubleClaims,
    '-',
    base.deadlocks,
  ]);
  claimRows.push([
    'naive SKIP LOCKED on ix_status, 8 workers',
    naive.eps,
    naive.doubleClaims,
    '-',
    naive.deadlocks,
  ]);
  m.baseline_claim_complete_8w_eps = Math.round(base.eps);
  m.baseline_append_eps = Math.round(base.appendEps);
  m.naive_skip_locked_deadlocks = naive.deadlocks;
  m.claim_vs_baseline_ratio = Number((m.mysql_claim_complete_8w_eps! / base.eps).toFixed(2));

  const memStore = memoryStore();
  const memLat = await feedLatency(memStore, memStore, quick ? 2 : 5, 10);
  await memStore.close();
  const writer = await mysqlStore(4);
  const reader = new EventStore({
    driver: new MysqlEventStoreDriver({ url, tablePrefix: prefixes.at(-1)!, poolSize: 1 }),
    types: testTypes,
  });
  const myLat = await feedLatency(writer, reader, quick ? 2 : 5, 10);
  await Promise.all([writer.close(), reader.close()]);
  rows.push(['feed latency p50 (ms) at 1,000 events/s', percentile(memLat, 50), percentile(myLat, 50)]);
  rows.push(['feed latency p99 (ms) at 1,000 events/s', percentile(memLat, 99), percentile(myLat, 99)]);
  m.memory_feed_p99_ms = percentile(memLat, 99);
  m.mysql_feed_p50_ms = percentile(myLat, 50);
  m.mysql_feed_p99_ms = percentile(myLat, 99);

  for (const p of prefixes) {
    for (const t of ['events', 'feed_seq', 'migrations', 'fleet_servers', 'fleet_allocations']) {
      await admin.query(`DROP TABLE IF EXISTS \`${p}${t}\``);
    }
  }
  await admin.end();

  const body = [
    'Throughput in events/s unless marked. MariaDB runs on the same 2-core machine as the benchmark.',
    'The MariaDB follower is a separate store instance (its own pool) polling every 10 ms; the memory follower is woken by commits.',
    '',
    table(['operation', 'memory', 'MariaDB'], rows),
    '',
    'Claim + complete on MariaDB against the baselines (same run; claims of up to 50 events per transaction for ctlplane):',
    '',
    table(['design', 'events/s', 'double claims', 'deadlocks retried', 'deadlocks surfaced'], claimRows),
    '',
    `ctlplane vs the 2012 design at 8 workers: **${m.claim_vs_baseline_ratio}×**. Targets: ≥ 100,000 appended/s in batches of 1,000 (measured ${m.mysql_append_batch1000_eps}); ≥ 10,000 claimed+completed/s with 8 workers (measured ${m.mysql_claim_complete_8w_eps}); ≥ 3× baseline; feed p99 ≤ 50 ms (measured ${m.mysql_feed_p99_ms} ms).`,
  ].join('\n');
  writeReport({ name: 'store', title: 'EventStore (`npm run bench -- store`)', body, metrics: m });
}

await main();
