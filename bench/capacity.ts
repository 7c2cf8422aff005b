/**
 * `npm run bench -- capacity [--quick] [--only harpoon|scheduler|router]`: the breaking point of
 * every component. Each is offered a rising load in bounded steps until its latency objective
 * breaks; the knee is the highest step where ≥ 95 % of the offered load was achieved within the
 * objective. Per step, /proc says what each process (ctlplane's, MariaDB, RabbitMQ) used.
 * Baselines in the same run: direct writes to MariaDB (Harpoon), Scheduler V1, agents polling
 * MariaDB (EventRouter). The full run stays under 12 minutes, `--quick` under 3.
 *
 * Writes docs/benchmarks.md (section `capacity`), bench/results/capacity.json and the measured
 * block of docs/capacity.md. `--only` prints its figures and writes nothing.
 */
import { randomBytes } from 'node:crypto';
import { createPool } from 'mysql2/promise';
import { renderCapacity } from './lib/capacity-body.js';
import { harpoonCapacity } from './lib/capacity-harpoon.js';
import type { CapacityResult } from './lib/capacity-report.js';
import { routerCapacity } from './lib/capacity-router.js';
import { schedulerCapacity } from './lib/capacity-scheduler.js';
import type { CapacityEnv } from './lib/capacity-shared.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
if (only && !['harpoon', 'scheduler', 'router'].includes(only)) {
  console.error('usage: npm run bench -- capacity [--quick] [--only harpoon|scheduler|router]');
  process.exit(2);
}
const started = Date.now();
const mysqlUrl = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const env: CapacityEnv = {
  mysqlUrl,
  amqpUrl: process.env.CTLPLANE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  admin: createPool({ uri: mysqlUrl, connectionLimit: 2 }),
  quick,
  tag: randomBytes(3).toString('hex'),
  // The full run's budget is 12 minutes, --quick's 3; leave room for setup and cleanup.
  deadline: started + (quick ? 150_000 : 660_000),
};
const log = (m: string) => process.stderr.write(`[capacity] ${m}\n`);
const want = (c: string) => !only || only === c;

const result: CapacityResult = {
  quick,
  startedAt: new Date(started).toISOString(),
  seconds: 0,
  harpoon: null,
  scheduler: null,
  router: null,
};
try {
  if (want('harpoon')) {
    log(
      'Harpoon: creates over HTTP (coalescing client, then one request per create), then the direct-to-MariaDB baseline',
    );
    result.harpoon = await harpoonCapacity(env);
  }
  if (want('scheduler')) {
    log('Scheduler: arrivals on MariaDB, V2 then V1');
    result.scheduler = await schedulerCapacity(env);
  }
  if (want('router')) {
    log('EventRouter: events/s, agents, then the polling baseline');
    result.router = await routerCapacity(env);
  }
  result.seconds = (Date.now() - started) / 1_000;
  log(`done in ${result.seconds.toFixed(0)} s`);
  renderCapacity(result, { write: !only });
} finally {
  await env.admin.end();
}
process.exit(0);
