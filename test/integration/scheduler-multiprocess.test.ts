import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MysqlEventStoreDriver, MysqlFleetDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Fleet } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { workerTypes } from './fixtures/scheduler-types.js';

const WORKER = fileURLToPath(new URL('./fixtures/scheduler-worker.ts', import.meta.url));
const EVENTS = 5_000;
const SERVERS = 200;

interface WorkerReport {
  instanceId: string;
  placed: number;
  failed: number;
  conflicts: number;
  placedIds: number[];
}

function runWorker(prefix: string, id: string): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, prefix, id], {
      env: { ...process.env, CTLPLANE_MYSQL_URL: mysqlUrl() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`worker ${id} exited ${code}: ${err.slice(-2_000)}`));
      else resolve(JSON.parse(line) as WorkerReport);
    });
  });
}

describeWith('mysql', 'Scheduler: three processes on MariaDB', () => {
  const admin = testPool({ connectionLimit: 2 });
  const prefix = uniquePrefix('smp');
  let reports: WorkerReport[] = [];

  beforeAll(async () => {
    await migrate({ url: mysqlUrl(), tablePrefix: prefix });
    const driver = new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix: prefix, poolSize: 2 });
    const store = new EventStore({ driver, types: workerTypes });
    const fleet = new Fleet({ driver: new MysqlFleetDriver({ pool: driver.pool, tablePrefix: prefix }) });
    // Tight: 200 servers of 16 cpu (×2 overcommit) and 64 memory; the events ask for about twice that.
    await fleet.upsert(
      Array.from({ length: SERVERS }, (_, i) => ({
        id: `hv-${String(i).padStart(3, '0')}`,
        region: 'nyc1',
        capacity: { cpu: 16, memory: 64 },
        labels: { rack: `rack-${i % 20}` },
      })),
    );
    for (let i = 0; i < EVENTS; i += 1_000) {
      await store.append(
        Array.from({ length: 1_000 }, (_, j) => ({
          type: 'droplet.create' as const,
          region: 'nyc1',
          payload: {
            cpu: 1 + ((i + j) % 4),
            memory: 2 + ((i + j) % 7),
            group: (i + j) % 3 === 0 ? `g${(i + j) % 97}` : null,
          },
        })),
      );
    }
    await fleet.close();
    await store.close();
    reports = await Promise.all(['s1', 's2', 's3'].map((id) => runWorker(prefix, id)));
  });

  afterAll(async () => {
    await dropPrefixed(admin, prefix);
    await admin.end();
  });

  const q = async <T extends RowDataPacket>(sql: string): Promise<T[]> => (await admin.query<T[]>(sql))[0];
  /** The capacity and usage columns of a resource (names map to column slots). */
  const cols = async (name: string) => {
    const [row] = await q(`SELECT slot FROM \`${prefix}fleet_resources\` WHERE name = '${name}'`);
    return { cap: `s.cap${Number(row!.slot)}`, used: `s.used${Number(row!.slot)}` };
  };

  it('shares the work between the three processes and places no event twice', async () => {
    // Every process took its share of the events (capacity is tight: who places and who fails
    // them depends on who reaches a server first).
    expect(reports.every((r) => r.placed + r.failed > 0)).toBe(true);
    expect(reports.reduce((n, r) => n + r.placed + r.failed, 0)).toBe(EVENTS);
    const ids = reports.flatMap((r) => r.placedIds);
    expect(new Set(ids).size).toBe(ids.length);
    const [row] = await q(`SELECT COUNT(*) AS n FROM \`${prefix}events\` WHERE status = 'placed'`);
    expect(Number(row!.n)).toBe(ids.length);
  });

  it('leaves every event placed, or failed with a reason', async () => {
    const rows = await q(`SELECT status, COUNT(*) AS n FROM \`${prefix}events\` GROUP BY status`);
    const by = Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]));
    expect(Object.keys(by).sort()).toEqual(['failed', 'placed']);
    expect(by.placed! + by.failed!).toBe(EVENTS);
    // The reason is the explanation: which filters rejected how many servers, and why.
    const [bad] = await q(
      `SELECT COUNT(*) AS n FROM \`${prefix}events\` WHERE status = 'failed'
         AND (error IS NULL OR (error NOT LIKE 'no server fits after % capacity rejected %'
                                AND error NOT LIKE 'lost % reservation races after %'))`,
    );
    expect(Number(bad!.n)).toBe(0);
    expect(reports.reduce((n, r) => n + r.failed, 0)).toBe(by.failed);
  });

  it('overcommits no server: allocations summed in SQL stay within capacity × ratio', async () => {
    const [cpu, memory] = [await cols('cpu'), await cols('memory')];
    const over = await q(`
      SELECT s.id FROM \`${prefix}fleet_servers\` s
      JOIN (SELECT server_id,
                   SUM(CAST(JSON_VALUE(demand, '$.cpu') AS SIGNED)) AS cpu,
                   SUM(CAST(JSON_VALUE(demand, '$.memory') AS SIGNED)) AS memory
            FROM \`${prefix}fleet_allocations\` GROUP BY server_id) a ON a.server_id = s.id
      WHERE a.cpu > ${cpu.cap} * 2 OR a.memory > ${memory.cap} * 1`);
    expect(over).toEqual([]);
    // The capacity really was contended: most of it is in use.
    const [used] = await q(
      `SELECT SUM(CAST(JSON_VALUE(demand, '$.memory') AS SIGNED)) AS memory FROM \`${prefix}fleet_allocations\``,
    );
    expect(Number(used!.memory)).toBeGreaterThan(0.9 * SERVERS * 64);
  });

  it('holds exactly one reservation per placed event, on its server, and leaks none', async () => {
    const [mismatch] = await q(`
      SELECT COUNT(*) AS n FROM \`${prefix}events\` e
      LEFT JOIN \`${prefix}fleet_allocations\` a ON a.alloc_key = CAST(e.id AS CHAR)
      WHERE e.status = 'placed' AND (a.server_id IS NULL OR a.server_id <> e.server_id)`);
    expect(Number(mismatch!.n)).toBe(0);
    const [leaked] = await q(`
      SELECT COUNT(*) AS n FROM \`${prefix}fleet_allocations\` a
      LEFT JOIN \`${prefix}events\` e ON CAST(e.id AS CHAR) = a.alloc_key
      WHERE e.id IS NULL OR e.status <> 'placed'`);
    expect(Number(leaked!.n)).toBe(0);
    const [cpu, memory] = [await cols('cpu'), await cols('memory')];
    const drift = await q(`
      SELECT s.id FROM \`${prefix}fleet_servers\` s
      LEFT JOIN (SELECT server_id,
                        SUM(CAST(JSON_VALUE(demand, '$.cpu') AS SIGNED)) AS cpu,
                        SUM(CAST(JSON_VALUE(demand, '$.memory') AS SIGNED)) AS memory
                 FROM \`${prefix}fleet_allocations\` GROUP BY server_id) a ON a.server_id = s.id
      WHERE COALESCE(a.cpu, 0) <> ${cpu.used} OR COALESCE(a.memory, 0) <> ${memory.used}`);
    expect(drift).toEqual([]);
  });
});
