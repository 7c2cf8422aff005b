/**
 * `npm run bench -- store-designs [--quick] [--only <design name prefix>,…]`: claim + complete
 * designs side by side in one run on the same MariaDB — main 8d054bf's SQL, the store's shipped
 * SQL and the naive SKIP LOCKED design — each profiled (round trips, CPU of the MariaDB threads
 * serving it and of Node, lock waits, per 1,000 events). The store's design was chosen from this
 * table (docs/event-store.md, "Why this design").
 */
import { loadavg } from 'node:os';
import { createPool } from 'mysql2/promise';
import { createUser } from './lib/capacity-shared.js';
import { DESIGNS, type Design, type Worker } from './lib/designs/designs.js';
import { createTables, fill } from './lib/designs/schemas.js';
import { type Profile, probe } from './lib/probe.js';
import { table, writeReport } from './lib/report.js';
import { benchUserUrl } from './lib/router-shared.js';
import { idle } from './lib/store-runs.js';
import { dropTables } from './lib/tables.js';

const url = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]?.split(',') : undefined;
const EVENTS = quick ? 6_000 : 20_000;
const BATCH = 50;
const PREFIX = 'bench_design_';
const admin = createPool({ uri: url, connectionLimit: 2, multipleStatements: true });
const log = (m: string) => process.stderr.write(`[store-designs] ${m}\n`);
/** The workers' own MySQL user: the probe reads the CPU of its server threads only. */
const USER = 'ctl_bench_designs';
const userUrl = benchUserUrl(url, USER);

interface Run {
  eps: number;
  profile: Profile;
  doubleClaims: number;
  deadlocks: number;
  emptyClaims: number;
}

async function run(design: Design, workers: number, byServer: boolean): Promise<Run> {
  await createTables(admin, url, PREFIX, design.schema);
  await fill(admin, PREFIX, design.schema, EVENTS);
  const pool: Worker[] = Array.from({ length: workers }, () => design.worker(userUrl, PREFIX));
  const seen = new Set<number>();
  let done = 0;
  let doubleClaims = 0;
  let deadlocks = 0;
  let emptyClaims = 0;
  let t0 = 0;
  // Open every connection before the probe starts, so its threads are known.
  await Promise.all(pool.map((w) => w.claim('warmup', 'no-such-server', 1)));
  const profile = await probe(admin, USER, EVENTS, async () => {
    t0 = performance.now();
    await Promise.all(
      pool.map(async (w, i) => {
        while (done < EVENTS) {
          const serverId = byServer ? `hv-${Math.floor(Math.random() * 50)}` : undefined;
          try {
            const rows = await w.claim(`w${i}`, serverId, BATCH);
            if (rows.length === 0) {
              emptyClaims++;
              await idle();
              continue;
            }
            for (const r of rows) {
              if (seen.has(r.id)) doubleClaims++;
              seen.add(r.id);
            }
            await w.complete(`w${i}`, rows);
            done += rows.length;
          } catch (err) {
            if (/deadlock/i.test((err as Error).message)) deadlocks++;
            else throw err;
          }
        }
      }),
    );
  });
  const eps = EVENTS / ((performance.now() - t0) / 1000);
  await Promise.all(pool.map((w) => w.close()));
  await dropTables(admin, PREFIX);
  return { eps, profile, doubleClaims, deadlocks, emptyClaims };
}

await createUser(admin, USER, 0);
const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' / ');
const rows: (string | number)[][] = [];
const metrics: Record<string, number> = {};
const EXTRA = process.env.DESIGNS_EXTRA ? ((await import(process.env.DESIGNS_EXTRA)).extra as Design[]) : [];
const designs = [...DESIGNS, ...EXTRA].filter((d) => !only || only.some((o) => d.name.startsWith(o)));
for (const workers of [8, 32]) {
  for (const byServer of [false, true]) {
    for (const d of designs) {
      const r = await run(d, workers, byServer);
      log(
        `${d.name} ${workers}w ${byServer ? 'by server' : 'any'}: ${r.eps.toFixed(0)}/s ${JSON.stringify(r.profile)}`,
      );
      const p = r.profile;
      rows.push([
        d.name,
        workers,
        byServer ? 'one of 50' : 'none',
        Math.round(r.eps),
        p.roundTripsPer1k,
        p.dbCpuMsPer1k,
        p.nodeCpuMsPer1k,
        p.lockWaitsPer1k,
        p.lockWaitMsPer1k,
        r.emptyClaims,
        r.doubleClaims,
        r.deadlocks,
      ]);
      const key = d === DESIGNS[0] ? 'main' : d === DESIGNS[1] ? 'shipped' : 'naive';
      metrics[`${key}_${workers}w_${byServer ? 'by_server' : 'any'}_eps`] = Math.round(r.eps);
    }
  }
}
await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
await admin.end();
const loadAfter = loadavg()
  .map((l) => l.toFixed(2))
  .join(' / ');
const body = [
  `Batches of ${BATCH}, ${EVENTS.toLocaleString('en-US')} placed events on 50 servers, one connection per worker; "server": what each claim names (none, or a random one of the 50). Load average (1/5/15 min) when the run began: ${loadBefore}; when it ended: ${loadAfter}.`,
  "Per 1,000 events: round trips (query packets), CPU ms of the MariaDB threads serving the workers' connections and of this Node process, and row-lock waits with their total ms (server-wide).",
  '',
  table(
    [
      'design',
      'workers',
      'server',
      'events/s',
      'round trips',
      'MariaDB CPU ms',
      'Node CPU ms',
      'lock waits',
      'lock wait ms',
      'empty claims',
      'double claims',
      'deadlocks',
    ],
    rows,
  ),
].join('\n');
const report = {
  name: 'store-designs',
  title: 'Claim + complete designs side by side (`npm run bench -- store-designs`)',
  body,
  metrics,
};
// Partial runs print their table but do not replace the recorded one.
if (quick || only) console.log(body);
else writeReport(report);
