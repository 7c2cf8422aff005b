/**
 * The end-to-end part of the scheduler benchmark: three scheduler processes on MariaDB place the
 * same workload, committed in the MySQL event store and fleet; overcommit and double placements
 * are then checked in SQL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MysqlEventStoreDriver, MysqlFleetDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Fleet } from '@ctlplane/core';
import { createPool, type RowDataPacket } from 'mysql2/promise';
import { percentile } from './report.js';
import type { RoundTripTimes } from './round-trip-timer.js';
import { types } from './scheduler-inprocess.js';
import { type Mix, makeRequests, makeServers } from './scheduler-workload.js';

const WORKER = fileURLToPath(new URL('./scheduler-e2e-worker.ts', import.meta.url));

/** What the end-to-end run measured. */
export interface E2eResult {
  readonly processes: number;
  readonly events: number;
  readonly placed: number;
  readonly failed: number;
  readonly conflicts: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly overcommitted: number;
  readonly doublePlacements: number;
  /** Per operation, summed over the processes: round trips, and ms waiting on each. */
  readonly roundTrips: RoundTripTimes;
  /** CPU ms of the scheduler processes together. */
  readonly schedulerCpuMs: number;
  readonly wallMs: number;
}

interface WorkerOut {
  roundTrips: RoundTripTimes;
  cpuMs: number;
  placed: number;
  failed: number;
  conflicts: number;
  ms: number;
  latencies: number[];
  placedIds: number[];
}

function start(args: string[]): { child: ChildProcess; ready: Promise<void>; done: Promise<WorkerOut> } {
  // CTLPLANE_BENCH_CPU_PROF=<dir>: write a V8 CPU profile of each scheduler process there.
  const prof = process.env.CTLPLANE_BENCH_CPU_PROF;
  const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', WORKER, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const done = new Promise<WorkerOut>((resolve, reject) =>
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`scheduler worker exited ${code}`));
      else resolve(JSON.parse(line) as WorkerOut);
    }),
  );
  done.catch(() => {}); // reported through `ready` or by the caller awaiting `done`
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('READY\n')) resolve();
    });
    done.then(
      () => reject(new Error('scheduler worker exited before it was ready')),
      (err: unknown) => reject(err),
    );
  });
  return { child, ready, done };
}

function mergeTimes(all: readonly RoundTripTimes[]): RoundTripTimes {
  const out: RoundTripTimes = {};
  for (const t of all) {
    for (const [op, v] of Object.entries(t)) {
      const o = out[op] ?? { count: 0, ms: 0 };
      out[op] = o;
      o.count += v.count;
      o.ms += v.ms;
    }
  }
  return out;
}

/** Run the end-to-end benchmark on a fresh table prefix (dropped afterwards). */
export async function runE2e(
  url: string,
  mix: Mix,
  servers: number,
  events: number,
  tuning = {},
): Promise<E2eResult> {
  const prefix = `bench_sch_${Date.now().toString(36)}_`;
  const admin = createPool({ uri: url, connectionLimit: 2 });
  let workers: ReturnType<typeof start>[] = [];
  try {
    await migrate({ url, tablePrefix: prefix });
    const driver = new MysqlEventStoreDriver({ url, tablePrefix: prefix, poolSize: 2 });
    const store = new EventStore({ driver, types, maxBatchSize: 5_000 });
    const fleet = new Fleet({ driver: new MysqlFleetDriver({ pool: driver.pool, tablePrefix: prefix }) });
    const inventory = makeServers(servers);
    for (let i = 0; i < inventory.length; i += 1_000) await fleet.upsert(inventory.slice(i, i + 1_000));
    const items = makeRequests(events);
    for (let i = 0; i < items.length; i += 5_000) {
      await store.append(
        items.slice(i, i + 5_000).map((w) => ({
          type: 'droplet.create' as const,
          region: w.region,
          payload: { vcpus: w.cpu, memoryGib: w.memory, gpu: w.gpu, group: w.group },
        })),
      );
    }
    await fleet.close();
    await store.close();
    workers = ['e2e-1', 'e2e-2', 'e2e-3'].map((id) =>
      start([prefix, id, mix, String(servers), JSON.stringify(tuning)]),
    );
    await Promise.all(workers.map((w) => w.ready));
    const t0 = performance.now();
    for (const w of workers) w.child.stdin!.write('GO\n');
    const outs = await Promise.all(workers.map((w) => w.done));
    const wallMs = performance.now() - t0;
    const ids = outs.flatMap((o) => o.placedIds);
    const q = async (sql: string) => (await admin.query<RowDataPacket[]>(sql))[0];
    const slots = new Map(
      (await q(`SELECT name, slot FROM \`${prefix}fleet_resources\``)).map((r) => [
        String(r.name),
        Number(r.slot),
      ]),
    );
    const cpu = slots.get('cpu')!;
    const mem = slots.get('memory')!;
    const [over] = await q(`
      SELECT COUNT(*) AS n FROM \`${prefix}fleet_servers\` s
      JOIN (SELECT server_id, SUM(CAST(JSON_VALUE(demand, '$.cpu') AS SIGNED)) AS cpu,
                   SUM(CAST(JSON_VALUE(demand, '$.memory') AS SIGNED)) AS memory
            FROM \`${prefix}fleet_allocations\` GROUP BY server_id) a ON a.server_id = s.id
      WHERE a.cpu > s.cap${cpu} * 4 OR a.memory > s.cap${mem} * 1`);
    const [mismatch] = await q(`
      SELECT COUNT(*) AS n FROM \`${prefix}events\` e
      LEFT JOIN \`${prefix}fleet_allocations\` a ON a.alloc_key = CAST(e.id AS CHAR)
      WHERE e.status = 'placed' AND (a.server_id IS NULL OR a.server_id <> e.server_id)`);
    const [placedRow] = await q(`SELECT COUNT(*) AS n FROM \`${prefix}events\` WHERE status = 'placed'`);
    const latencies = outs.flatMap((o) => o.latencies);
    return {
      processes: outs.length,
      events,
      placed: Number(placedRow!.n),
      failed: outs.reduce((n, o) => n + o.failed, 0),
      conflicts: outs.reduce((n, o) => n + o.conflicts, 0),
      perSecond: (Number(placedRow!.n) / wallMs) * 1_000,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      overcommitted: Number(over!.n),
      // An event placed by two processes, or placed without its one reservation on its server.
      doublePlacements: ids.length - new Set(ids).size + Number(mismatch!.n),
      roundTrips: mergeTimes(outs.map((o) => o.roundTrips)),
      schedulerCpuMs: outs.reduce((n, o) => n + o.cpuMs, 0),
      wallMs,
    };
  } finally {
    // A failed run must not leave scheduler processes behind.
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    const [rows] = await admin.query<RowDataPacket[]>(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
      [`${prefix.replaceAll('_', '\\_')}%`],
    );
    for (const r of rows) await admin.query(`DROP TABLE IF EXISTS \`${String(r.t)}\``);
    await admin.end();
  }
}
