/**
 * `npm run bench -- store-write-concurrency [--quick]`: why the MySQL driver runs 4 writes at a
 * time. Claim + complete with 8 and 32 workers through the EventStore on MariaDB, one run per
 * `writeConcurrency` (1, 2, 4, 8, 16), each profiled like the `store` benchmark (round trips,
 * CPU of MariaDB's serving threads and of Node, row-lock waits, per 1,000 events).
 */
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import { createPool } from 'mysql2/promise';
import { type TestStore, testTypes } from '../test/contract/event-store.fixtures.js';
import { createUser } from './lib/capacity-shared.js';
import { type Profile, probe } from './lib/probe.js';
import { table, writeReport } from './lib/report.js';
import { benchUserUrl } from './lib/router-shared.js';
import { claimRate, fill } from './lib/store-runs.js';

const url = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const quick = process.argv.includes('--quick');
const TOTAL = quick ? 4_000 : 20_000;
const LEVELS = [1, 2, 4, 8, 16];
const admin = createPool({ uri: url, connectionLimit: 2, multipleStatements: true });
/** The store's own MySQL user: the profile reads the CPU of its server threads only. */
const USER = 'ctl_bench_write_conc';
const storeUrl = benchUserUrl(url, USER);
const log = (m: string) => process.stderr.write(`[store-write-concurrency] ${m}\n`);
const TABLES = ['events', 'feed_seq', 'migrations', 'relay_cursors', 'relay_parked'];
const FLEET = ['fleet_resources', 'fleet_servers', 'fleet_allocations', 'fleet_fences'];

async function storeWith(writeConcurrency: number, poolSize: number): Promise<[TestStore, string]> {
  const tablePrefix = `bench_wc_${Math.random().toString(36).slice(2, 8)}_`;
  await migrate({ url, tablePrefix });
  const driver = new MysqlEventStoreDriver({ url: storeUrl, tablePrefix, poolSize, writeConcurrency });
  return [new EventStore({ driver, types: testTypes }), tablePrefix];
}

await createUser(admin, USER, 0);
const rows: (string | number)[][] = [];
const metrics: Record<string, number> = {};
for (const workers of [8, 32]) {
  for (const level of LEVELS) {
    const [store, prefix] = await storeWith(level, Math.min(workers, 16));
    await fill(store, TOTAL);
    let profile: Profile | undefined;
    const r = await claimRate(store, workers, TOTAL, false, async (fn) => {
      profile = await probe(admin, USER, TOTAL, fn);
    });
    await store.close();
    for (const t of [...TABLES, ...FLEET]) await admin.query(`DROP TABLE IF EXISTS \`${prefix}${t}\``);
    const p = profile!;
    rows.push([
      workers,
      level,
      r.eps,
      p.roundTripsPer1k,
      p.dbCpuMsPer1k,
      p.nodeCpuMsPer1k,
      p.lockWaitsPer1k,
      p.lockWaitMsPer1k,
    ]);
    metrics[`claim_complete_${workers}w_wc${level}_eps`] = Math.round(r.eps);
    metrics[`double_claims`] = (metrics.double_claims ?? 0) + r.doubleClaims;
    log(`${workers} workers, writeConcurrency ${level}: ${r.eps.toFixed(0)}/s ${JSON.stringify(p)}`);
  }
}
await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
await admin.end();

const best = (w: number) =>
  LEVELS.reduce((a, l) =>
    metrics[`claim_complete_${w}w_wc${l}_eps`]! > metrics[`claim_complete_${w}w_wc${a}_eps`]! ? l : a,
  );
metrics.best_write_concurrency_8w = best(8);
metrics.best_write_concurrency_32w = best(32);
writeReport({
  name: 'store-write-concurrency',
  title: 'EventStore on MariaDB: writes in flight at once (`npm run bench -- store-write-concurrency`)',
  body: [
    `Claim + complete through the EventStore (claims of up to 50 events, no server named, ${TOTAL.toLocaleString('en-US')} events per run, pool of min(workers, 16)), one run per \`writeConcurrency\`. Per 1,000 events: round trips, CPU of the store user's MariaDB threads, Node CPU, server-wide row-lock waits.`,
    '',
    table(
      [
        'workers',
        'writeConcurrency',
        'events/s',
        'round trips',
        'MariaDB CPU ms',
        'Node CPU ms',
        'row-lock waits',
        'lock wait ms',
      ],
      rows,
    ),
    '',
    `Fastest here: ${metrics.best_write_concurrency_8w} at 8 workers, ${metrics.best_write_concurrency_32w} at 32 (the driver's default is 4).`,
  ].join('\n'),
  metrics,
});
