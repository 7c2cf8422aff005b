/**
 * One scheduler process of the end-to-end benchmark: `node --import tsx scheduler-e2e-worker.ts
 * <tablePrefix> <instanceId> <mix>`. Loads the fleet, prints READY, waits for GO on stdin, places
 * pending events until none is left, and prints one JSON line of results.
 */
import { createInterface } from 'node:readline';
import { MysqlEventStoreDriver, MysqlFleetDriver } from '@ctlplane/adapters/mysql';
import { EventStore, Fleet, Scheduler } from '@ctlplane/core';
import { timeRoundTrips } from './round-trip-timer.js';
import { requestOf, types } from './scheduler-inprocess.js';
import { type Mix, makeMetrics, makeServers, pipelineFor } from './scheduler-workload.js';

const [prefix, instanceId, mix, servers, tuning] = process.argv.slice(2);
// The benchmark went away: nobody reads the results any more.
process.stdout.on('error', () => process.exit(1));
const url = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const driver = new MysqlEventStoreDriver({ url, tablePrefix: prefix!, poolSize: 4 });
const store = new EventStore({ driver, types });
const fleet = new Fleet({ driver: new MysqlFleetDriver({ pool: driver.pool, tablePrefix: prefix! }) });
const options = pipelineFor(mix as Mix, makeMetrics(makeServers(Number(servers))));
const scheduler = new Scheduler({
  store,
  fleet,
  instanceId: instanceId!,
  request: (e) => {
    const r = requestOf(e);
    return { demand: r.demand, ...(r.labels ? { labels: r.labels } : {}), group: r.group ?? null };
  },
  ...options,
  topK: 3,
  attempts: 3,
  backoff: { initialMs: 50, maxMs: 200 },
  idlePollMs: 50,
  ...JSON.parse(tuning ?? '{}'),
});
const latencies: number[] = [];
const placedIds: number[] = [];
scheduler.on('scheduler:placed', (e) => {
  latencies.push(e.latencyMs);
  placedIds.push(e.eventId);
});
await scheduler.dryRun([]); // loads the fleet view before the clock starts
process.stdout.write('READY\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'GO') break;
const roundTrips = timeRoundTrips();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await scheduler.start();
await scheduler.drain();
const ms = performance.now() - t0;
await scheduler.stop();
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ instanceId, ...scheduler.stats(), ms, latencies, placedIds, roundTrips: roundTrips(), cpuMs: (cpu.user + cpu.system) / 1000 })}\n`,
);
await fleet.close();
await store.close();
process.exit(0);
