/**
 * The scheduler's breaking point: pending droplet requests appended to MariaDB at a rising rate,
 * one scheduler instance (its own process) placing them on 10,000 servers; pending → placed p99
 * must stay within 1,000 ms. Then the V1 baseline (one request at a time, every server scored) in
 * the same way, on the same fleet.
 */
import { MysqlEventStoreDriver, MysqlFleetDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Fleet } from '@ctlplane/core';
import { probe } from './capacity-proc.js';
import {
  type RampResult,
  ramp,
  type StepOutcome,
  strictPercentile,
  windowLatencies,
  within,
} from './capacity-ramp.js';
import {
  type CapacityEnv,
  componentDeadline,
  disruptiveErrors,
  dropPrefixed,
  lib,
  rows,
  sleep,
} from './capacity-shared.js';
import { Child } from './router-ipc.js';
import { type TypeMap, types } from './scheduler-inprocess.js';
import { makeRequests, makeServers } from './scheduler-workload.js';

/** Pending → placed p99 objective, ms. */
export const PLACEMENT_OBJECTIVE_MS = 1_000;
const SERVERS = 10_000;

/** Both ramps. */
export interface SchedulerCapacity {
  v2: RampResult;
  v1: RampResult | null;
  settings: { servers: number; warmupS: number; seconds: number };
}

type Store = EventStore<TypeMap>;

/** Append `rate` requests/s for `seconds` in 20 ms ticks (≤ 8 appends in flight), noting commit times. */
async function arrivals(
  store: Store,
  rate: number,
  seconds: number,
  seed: number,
  committed: Map<number, number>,
) {
  const items = makeRequests(Math.ceil(rate * seconds) + 1, seed);
  const t0 = Date.now();
  const inflight = new Set<Promise<void>>();
  const errors: Record<string, number> = {};
  let sent = 0;
  for (let k = 0; sent < items.length; k++) {
    const wait = t0 + k * 20 - Date.now();
    if (wait > 0) await sleep(wait);
    const due = Math.min(items.length, Math.round(((Date.now() - t0) / 1_000) * rate));
    if (due <= sent) continue;
    while (inflight.size >= 8) await Promise.race(inflight);
    const batch = items.slice(sent, due).map((w) => ({
      type: 'droplet.create' as const,
      region: w.region,
      payload: { vcpus: w.cpu, memoryGib: w.memory, gpu: w.gpu, group: w.group },
    }));
    sent = due;
    const p: Promise<void> = store
      .append(batch)
      .then((events) => {
        const now = Date.now();
        for (const e of events) committed.set(e.id, now);
      })
      .catch((err: unknown) => {
        const code = (err as { code?: string }).code ?? 'ERROR';
        errors[code] = (errors[code] ?? 0) + batch.length;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  return { errors };
}

interface Report {
  placed: number[];
  errors: number;
  storeRetries: number;
  conflicts: number;
  failed: number;
}

async function rampOf(env: CapacityEnv, mode: 'v2' | 'v1', fleetPrefix: string, deadline: number) {
  const prefix = `cap_${mode}_${env.tag}_`;
  const warmupS = env.quick ? 1 : 2;
  const seconds = env.quick ? 3 : 6;
  await migrate({ url: env.mysqlUrl, tablePrefix: prefix });
  const store: Store = new EventStore({
    driver: new MysqlEventStoreDriver({ url: env.mysqlUrl, tablePrefix: prefix, poolSize: 8 }),
    types,
    maxBatchSize: 5_000,
  });
  const worker = new Child(lib('capacity-scheduler-worker.ts'), [
    mode,
    prefix,
    fleetPrefix,
    'spread',
    String(SERVERS),
  ]);
  let seed = 100;
  try {
    await within(worker.ready(), 120_000, `scheduler ${mode} start`);
    const v2Loads = env.quick
      ? [500, 1_000, 2_000, 4_000]
      : [250, 500, 1_000, 1_500, 2_000, 3_000, 4_000, 6_000];
    const v1Loads = env.quick ? [50, 100, 200] : [25, 50, 100, 200, 400];
    return await ramp({
      name: mode === 'v2' ? 'Scheduler V2' : 'Scheduler V1 (baseline)',
      unit: 'placements/s',
      objectiveMs: PLACEMENT_OBJECTIVE_MS,
      objective: `pending → placed p99 ≤ ${PLACEMENT_OBJECTIVE_MS.toLocaleString('en-US')} ms (append committed to placement committed)`,
      loads: mode === 'v2' ? v2Loads : v1Loads,
      ctlplane: ['scheduler'],
      load: ['load'],
      deadline,
      stepBudgetMs: (warmupS + seconds) * 1_000 + 12_000,
      run: async (rate) => {
        await worker.call('reset');
        const before = await worker.call<Report>('report');
        const committed = new Map<number, number>();
        const loading = arrivals(store, rate, warmupS + seconds, seed++, committed);
        await sleep(warmupS * 1_000);
        const from = Date.now();
        const stop = probe({ scheduler: worker.proc.pid!, load: process.pid });
        await sleep(seconds * 1_000);
        const to = Date.now();
        const resources = stop();
        const { errors } = await loading;
        const windowIds = [...committed].filter(([, at]) => at >= from && at < to);
        // Give the last arrivals up to 5 s to be placed.
        const {
          report: rep,
          latencies,
          missing: unplaced,
        } = await windowLatencies(
          () => worker.call<Report>('report'),
          (r) => r.placed,
          windowIds,
          20,
        );
        // Placements made inside the window (odd entries are placement times).
        const inWindow = rep.placed.filter((t, j) => j % 2 === 1 && t >= from && t < to).length;
        // Clear the backlog before the next step (bounded).
        for (let i = 0; i < 40; i++) {
          const [r] = await rows(
            env.admin,
            `SELECT COUNT(*) AS n FROM \`${prefix}events\` WHERE status = 'pending'`,
          );
          if (Number(r!.n) === 0) break;
          await sleep(250);
        }
        const errs = rep.errors - before.errors;
        return {
          offered: rate,
          achieved: inWindow / seconds,
          p50: strictPercentile(latencies, unplaced, 50),
          p99: strictPercentile(latencies, unplaced, 99),
          errors: { ...errors, ...(unplaced > 0 ? { unplaced } : {}) },
          disruption: [
            ...disruptiveErrors(errors),
            ...(errs > 0 ? [`scheduler errors ×${errs}`] : []),
            ...(rep.storeRetries > before.storeRetries
              ? [`MariaDB retries ×${rep.storeRetries - before.storeRetries}`]
              : []),
          ],
          resources,
          extra: {
            appendedPerS: windowIds.length / seconds,
            conflicts: rep.conflicts - before.conflicts,
            failed: rep.failed - before.failed,
          },
        } satisfies StepOutcome;
      },
    });
  } finally {
    await worker.stop();
    await store.close();
  }
}

/** Load the fleet once, then ramp V2 and (time permitting) V1 on it. */
export async function schedulerCapacity(env: CapacityEnv): Promise<SchedulerCapacity> {
  const fleetPrefix = `cap_fl_${env.tag}_`;
  const warmupS = env.quick ? 1 : 2;
  const seconds = env.quick ? 3 : 6;
  try {
    await migrate({ url: env.mysqlUrl, tablePrefix: fleetPrefix });
    const fleet = new Fleet({
      driver: new MysqlFleetDriver({ url: env.mysqlUrl, tablePrefix: fleetPrefix }),
    });
    const inventory = makeServers(SERVERS);
    for (let i = 0; i < inventory.length; i += 1_000) await fleet.upsert(inventory.slice(i, i + 1_000));
    await fleet.close();
    const v2 = await rampOf(env, 'v2', fleetPrefix, componentDeadline(env, env.quick ? 30_000 : 110_000));
    // V1 is the cheap baseline: it runs when its first steps fit in what is left of the budget.
    const v1Deadline = componentDeadline(env, env.quick ? 20_000 : 55_000);
    const v1 =
      Date.now() + (warmupS + seconds) * 2_000 + 10_000 < v1Deadline
        ? await rampOf(env, 'v1', fleetPrefix, v1Deadline)
        : null;
    return { v2, v1, settings: { servers: SERVERS, warmupS, seconds } };
  } finally {
    for (const p of [fleetPrefix, `cap_v2_${env.tag}_`, `cap_v1_${env.tag}_`])
      await dropPrefixed(env.admin, p);
  }
}
