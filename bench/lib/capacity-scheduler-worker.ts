/**
 * One scheduler instance of the capacity benchmark, running until told to exit: ctlplane's
 * Scheduler V2 (as in the scheduler benchmark's end-to-end workers) or the V1 baseline, on MariaDB.
 * Records when each event was placed, for the parent to join with when it was appended.
 *
 * Args: <v2|v1> <eventsPrefix> <fleetPrefix> <mix> <servers>
 */
import { MysqlEventStoreDriver, MysqlFleetDriver } from '@ctlplane/adapters/mysql';
import { EventStore, Fleet, Scheduler } from '@ctlplane/core';
import { serveIpc } from './router-ipc.js';
import { requestOf, types } from './scheduler-inprocess.js';
import { runV1 } from './scheduler-v1.js';
import {
  extraFilters,
  type Mix,
  makeMetrics,
  makeServers,
  pipelineFor,
  strategiesFor,
} from './scheduler-workload.js';

const [mode, eventsPrefix, fleetPrefix, mix, servers] = process.argv.slice(2) as [
  'v2' | 'v1',
  string,
  string,
  Mix,
  string,
];
const url = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const driver = new MysqlEventStoreDriver({ url, tablePrefix: eventsPrefix, poolSize: 4 });
const store = new EventStore({ driver, types });
const fleet = new Fleet({ driver: new MysqlFleetDriver({ pool: driver.pool, tablePrefix: fleetPrefix }) });
const metrics = makeMetrics(makeServers(Number(servers)));
let placed: number[] = []; // pairs: event id, time placed
const counters = { errors: 0, storeRetries: 0, conflicts: 0, failed: 0 };
store.on('store:retry', () => counters.storeRetries++);
let stopped = false;
let stop: () => Promise<void> = async () => {};

if (mode === 'v2') {
  const scheduler = new Scheduler({
    store,
    fleet,
    instanceId: `capacity-${process.pid}`,
    request: (e) => {
      const r = requestOf(e);
      return { demand: r.demand, ...(r.labels ? { labels: r.labels } : {}), group: r.group ?? null };
    },
    ...pipelineFor(mix, metrics),
    topK: 3,
    // Appends come from another process: an idle scheduler polls for them this often.
    idlePollMs: 50,
  });
  scheduler.on('scheduler:placed', (e) => placed.push(e.eventId, Date.now()));
  scheduler.on('scheduler:error', () => counters.errors++);
  scheduler.on('scheduler:conflict', () => counters.conflicts++);
  scheduler.on('scheduler:failed', () => counters.failed++);
  await scheduler.dryRun([]); // loads the fleet view before the first step
  await scheduler.start();
  stop = () => scheduler.stop();
} else {
  // V1 returns when a claim comes back empty; this claim waits for work instead, so the baseline
  // keeps its one fleet load and serves arrivals as they come.
  const v1Store = {
    claim: async (input: Parameters<typeof store.claim>[0]) => {
      for (;;) {
        const batch = await store.claim(input);
        if (batch.length > 0 || stopped) return batch;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    transition: async (input: Parameters<typeof store.transition>[0]) => {
      const e = await store.transition(input);
      if (input.to === 'placed') placed.push(input.id, Date.now());
      else counters.failed++;
      return e;
    },
  };
  let loaded!: () => void;
  const ready = new Promise<void>((r) => {
    loaded = r;
  });
  const options = {
    store: v1Store,
    fleet,
    strategies: strategiesFor(mix),
    filters: extraFilters(),
    overcommit: { cpu: 4, memory: 1 },
    metrics,
    maxAgeMs: 600_000,
    request: requestOf,
  };
  const running = (async () => {
    // A failed store call ends runV1: count it and start again (with a fresh fleet load).
    while (!stopped) {
      await runV1(options, loaded).catch((err: Error) => {
        counters.errors++;
        console.error('scheduler V1 restarting after:', err.message);
      });
    }
  })();
  await ready;
  stop = async () => {
    stopped = true;
    await running;
  };
}

serveIpc({
  reset: () => {
    placed = [];
  },
  report: () => ({ placed, ...counters }),
  exit: async () => {
    await stop();
    await fleet.close();
    await store.close();
    setImmediate(() => process.exit(0));
  },
});
process.send!({ id: 0, result: 'ready' });
