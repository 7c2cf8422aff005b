/**
 * Harpoon's breaking point: callers creating single events open-loop over HTTP at a rising rate,
 * Harpoon on MariaDB relaying to RabbitMQ, first with the coalescing HarpoonClient (its defaults:
 * concurrent creates in one request), then with one request per create (`coalesce: false`); then,
 * for reference, the per-request callers against a bare HTTP server; then the same callers writing
 * straight into MariaDB (the 2012 design) as the baseline. Objective: create p99 ≤ 250 ms.
 */
import { randomBytes } from 'node:crypto';
import { migrate } from '@ctlplane/adapters/mysql';
import { probe } from './capacity-proc.js';
import { type RampResult, ramp, type StepOutcome, within } from './capacity-ramp.js';
import {
  type CapacityEnv,
  componentDeadline,
  connectionRoom,
  deleteAmqp,
  disruptiveErrors,
  dropPrefixed,
  lib,
  sleep,
} from './capacity-shared.js';
import { Child } from './router-ipc.js';
import { BASELINE_DDL } from './store-baseline.js';

/** Create p99 objective of both designs, ms. */
export const CREATE_OBJECTIVE_MS = 250;

interface HarpoonStats {
  storeRetries: number;
  relayErrors: number;
  busDisconnects: number;
  busy: number;
  batches: number;
  batched: number;
  retryCodes: Record<string, number>;
  pending: number;
  published: number;
  relayLag: number;
  connections: number;
}
interface CallerSummary {
  offered: number;
  achieved: number;
  p50: number | null;
  p99: number | null;
  failed: number;
  errors: Record<string, number>;
  maxInFlight: number;
}

/** The four ramps, and the settings they ran with. */
export interface HarpoonCapacity {
  /** The coalescing client (its defaults). */
  harpoon: RampResult;
  /** One request per create (`coalesce: false`). */
  uncoalesced: RampResult;
  /** The per-request callers against a bare HTTP server: what the transport alone sustains here. */
  transport: RampResult;
  baseline: RampResult;
  settings: { warmupS: number; seconds: number; maxInFlight: number; baselineCap: number; pool: number };
}

const HARPOON_POOL = 4;
const MAX_IN_FLIGHT = 2_000;

/** Run the four ramps (bounded by the run's time budget). */
export async function harpoonCapacity(env: CapacityEnv): Promise<HarpoonCapacity> {
  const prefix = `cap_hp_${env.tag}_`;
  const exchange = `ctlplane.capacity.${env.tag}`;
  const queue = `capacity.harpoon.${env.tag}`;
  const warmupS = env.quick ? 1 : 2;
  const seconds = env.quick ? 3 : 6;
  const step = { warmupS, seconds, maxInFlight: MAX_IN_FLIGHT, drainMs: 5_000 };
  const token = randomBytes(24).toString('hex');
  const children: Child[] = [];
  try {
    await migrate({ url: env.mysqlUrl, tablePrefix: prefix });
    const server = new Child(
      lib('capacity-harpoon-server.ts'),
      [env.mysqlUrl, prefix, env.amqpUrl, exchange, queue, String(HARPOON_POOL)],
      { CTLPLANE_BENCH_HARPOON_TOKEN: token },
    );
    children.push(server);
    await within(server.ready(), 60_000, 'harpoon process start');
    const url = await server.call<string>('url');
    const callers = new Child(lib('capacity-callers.ts'), [], { CTLPLANE_BENCH_HARPOON_TOKEN: token });
    children.push(callers);
    await within(callers.ready(), 60_000, 'callers process start');
    await callers.call('consume', { amqpUrl: env.amqpUrl, exchange, queue });
    const pids = { harpoon: server.proc.pid!, callers: callers.proc.pid! };

    /** One step of `rate` creates/s to `target` (Harpoon, or the bare HTTP reference server). */
    const httpStep = async (target: string, rate: number, coalesce: boolean): Promise<StepOutcome> => {
      const before = await server.call<HarpoonStats>('stats');
      const load = callers.call<CallerSummary>('harpoon', { ...step, rate, url: target, coalesce });
      await sleep(warmupS * 1_000);
      const stop = probe(pids);
      await sleep(seconds * 1_000);
      const resources = stop();
      const r = await within(load, (warmupS + seconds) * 1_000 + 30_000, 'harpoon step');
      const after = await server.call<HarpoonStats>('stats');
      // Let Harpoon and its relay catch up before the next step (bounded).
      let settled = after;
      for (
        let i = 0;
        i < 40 && (settled.pending > 0 || settled.relayLag < 0 || settled.relayLag >= 100);
        i++
      ) {
        await sleep(250);
        settled = await server.call<HarpoonStats>('stats');
      }
      const diff = (k: 'storeRetries' | 'relayErrors' | 'busDisconnects') => after[k] - before[k];
      const batches = after.batches - before.batches;
      return {
        ...pick(r),
        disruption: [
          ...(diff('busDisconnects') > 0 ? [`RabbitMQ connection lost ×${diff('busDisconnects')}`] : []),
          ...(diff('relayErrors') > 0 ? [`relay errors ×${diff('relayErrors')}`] : []),
          ...(diff('storeRetries') > 0 ? [`MariaDB retries ×${diff('storeRetries')}`] : []),
        ],
        resources,
        extra: {
          maxInFlight: r.maxInFlight,
          // The server side's own CPU per request: what one dedicated core would serve is 1,000 ÷ this.
          serverCpuMsPerRequest: r.achieved > 0 ? ((resources.cpu.harpoon ?? 0) * 10) / r.achieved : 0,
          ...(batches > 0 ? { meanBatch: (after.batched - before.batched) / batches } : {}),
          ...(target === url ? { relayLagAtEnd: after.relayLag, relayLagSettled: settled.relayLag } : {}),
          ...(after.busy > before.busy ? { busy: after.busy - before.busy } : {}),
        },
      };
    };
    const stepBudgetMs = (warmupS + seconds) * 1_000 + 10_000;
    const objective = `create p99 ≤ ${CREATE_OBJECTIVE_MS} ms (HTTP request to committed event, from its scheduled start)`;
    const harpoon = await ramp({
      name: 'Harpoon (coalescing client)',
      unit: 'creates/s',
      objectiveMs: CREATE_OBJECTIVE_MS,
      objective,
      loads: env.quick
        ? [1_000, 4_000, 8_000]
        : [500, 1_000, 2_000, 4_000, 6_000, 7_500, 10_000, 12_000, 16_000],
      ctlplane: ['harpoon'],
      load: ['callers'],
      deadline: componentDeadline(env, env.quick ? 35_000 : 130_000),
      stepBudgetMs,
      run: (rate) => httpStep(url, rate, true),
    });
    const perRequestLoads = env.quick
      ? [500, 1_000, 2_000]
      : [250, 500, 1_000, 1_500, 2_000, 3_000, 4_000, 6_000];
    const uncoalesced = await ramp({
      name: 'Harpoon (one request per create)',
      unit: 'creates/s',
      objectiveMs: CREATE_OBJECTIVE_MS,
      objective,
      loads: perRequestLoads,
      ctlplane: ['harpoon'],
      load: ['callers'],
      deadline: componentDeadline(env, env.quick ? 25_000 : 90_000),
      stepBudgetMs,
      run: (rate) => httpStep(url, rate, false),
    });
    const echoUrl = await server.call<string>('echoUrl');
    const transport = await ramp({
      name: 'HTTP transport alone (reference)',
      unit: 'creates/s',
      objectiveMs: CREATE_OBJECTIVE_MS,
      objective: `request p99 ≤ ${CREATE_OBJECTIVE_MS} ms (the per-request callers and client, a bare node:http server answering a stored event)`,
      loads: perRequestLoads.filter((l) => l >= uncoalesced.knee),
      ctlplane: ['harpoon'],
      load: ['callers'],
      deadline: componentDeadline(env, env.quick ? 20_000 : 45_000),
      stepBudgetMs,
      run: (rate) => httpStep(echoUrl, rate, false),
    });
    await server.stop();
    children.splice(children.indexOf(server), 1);

    // Baseline: the 2012 design, one connection per caller up to what MariaDB has left but 20.
    const table = `\`${prefix}direct_events\``;
    for (const sql of BASELINE_DDL(table)) await env.admin.query(sql);
    const room = await connectionRoom(env.admin);
    const cap = Math.max(1, Math.min(100, room.max - room.held - 20));
    const baseline = await ramp({
      name: 'Baseline (direct to MariaDB)',
      unit: 'creates/s',
      objectiveMs: CREATE_OBJECTIVE_MS,
      objective: `create p99 ≤ ${CREATE_OBJECTIVE_MS} ms (INSERT to commit, from its scheduled start)`,
      loads: env.quick
        ? [1_000, 2_000, 4_000]
        : [500, 1_000, 2_000, 3_000, 4_000, 6_000, 8_000, 12_000, 16_000],
      ctlplane: [],
      load: ['callers'],
      deadline: componentDeadline(env, env.quick ? 25_000 : 110_000),
      stepBudgetMs,
      run: async (rate) => {
        const load = callers.call<CallerSummary>('direct', {
          ...step,
          rate,
          mysqlUrl: env.mysqlUrl,
          table,
          cap,
        });
        await sleep(warmupS * 1_000);
        const stop = probe({ callers: callers.proc.pid! });
        await sleep(seconds * 1_000);
        const resources = stop();
        const r = await within(load, (warmupS + seconds) * 1_000 + 30_000, 'baseline step');
        await sleep(500);
        return {
          ...pick(r),
          disruption: disruptiveErrors(r.errors),
          resources,
          extra: { maxInFlight: r.maxInFlight, dbConnections: cap },
        } satisfies StepOutcome;
      },
    });
    return {
      harpoon,
      uncoalesced,
      transport,
      baseline,
      settings: { warmupS, seconds, maxInFlight: MAX_IN_FLIGHT, baselineCap: cap, pool: HARPOON_POOL },
    };
  } finally {
    for (const c of children) await c.stop();
    await dropPrefixed(env.admin, prefix);
    await deleteAmqp(env.amqpUrl, [queue], [exchange]);
  }
}

/** The figures a step reports; Infinity crossed IPC (JSON) as null. */
function pick(r: CallerSummary) {
  const inf = (v: number | null) => (v === null ? Number.POSITIVE_INFINITY : v);
  return { offered: r.offered, achieved: r.achieved, p50: inf(r.p50), p99: inf(r.p99), errors: r.errors };
}
