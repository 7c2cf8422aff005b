/**
 * The EventRouter's breaking points, with the router benchmark's processes (router-server,
 * router-agents, router-load): events/s at a fixed number of agents, then connected agents at a
 * fixed modest event rate, on the polling input. Objective: event-to-agent p99 ≤ poll interval +
 * 50 ms. The polling baseline (every agent its own MariaDB connection) is in capacity-router-baseline.
 */
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import { probe } from './capacity-proc.js';
import {
  type RampResult,
  ramp,
  type StepOutcome,
  strictPercentile,
  windowLatencies,
  within,
} from './capacity-ramp.js';
import { pollingBaseline } from './capacity-router-baseline.js';
import {
  CAP_POLL_USER,
  CAP_ROUTER_USER,
  type CapacityEnv,
  componentDeadline,
  createUser,
  dropPrefixed,
  lib,
  sleep,
} from './capacity-shared.js';
import { Child } from './router-ipc.js';
import { generate } from './router-load.js';
import { asUser, benchTypes } from './router-shared.js';

/** The poll interval of the router's input (and of the baseline's agents), ms. */
export const POLL_MS = 1_000;
export const ROUTER_OBJECTIVE_MS = POLL_MS + 50;
const REGION = 'cap';

/** All three ramps. */
export interface RouterCapacity {
  events: RampResult;
  agents: RampResult;
  baseline: RampResult;
  settings: {
    pollMs: number;
    eventsAtAgents: number;
    agentsAtRate: number;
    warmupS: number;
    seconds: number;
    fdLimit: number;
    baselineCap: number;
  };
}

interface Report {
  received: number[];
}

/** The open-files limit a child gets (router-ipc raises it to 65,536 or the hard limit). */
function childFdLimit(): number {
  try {
    const hard = Number(execSync('bash -c "ulimit -Hn"', { encoding: 'utf8' }).trim());
    return Number.isFinite(hard) ? Math.min(65_536, hard) : 65_536;
  } catch {
    return 65_536;
  }
}

/** Run the router's ramps and the polling baseline. */
export async function routerCapacity(env: CapacityEnv): Promise<RouterCapacity> {
  const prefix = `cap_rt_${env.tag}_`;
  const warmupS = env.quick ? 1 : 2;
  const seconds = env.quick ? 3 : 6;
  const fdLimit = childFdLimit();
  // One socket per agent in both the router and the agents process, plus some room.
  const maxAgents = Math.min(30_000, fdLimit - 500);
  const eventsAtAgents = env.quick ? 1_000 : 2_000;
  const agentsAtRate = env.quick ? 300 : 500;
  process.env.CTLPLANE_BENCH_AGENT_SECRET ??= randomBytes(32).toString('hex');
  await createUser(env.admin, CAP_ROUTER_USER, 0);
  const driver = new MysqlEventStoreDriver({
    url: env.mysqlUrl,
    tablePrefix: prefix,
    poolSize: 16,
    migrate: true,
  });
  await driver.ready();
  const store = new EventStore({ driver, types: benchTypes });
  const children: Child[] = [];
  try {
    const router = new Child(lib('router-server.ts'), [
      asUser(env.mysqlUrl, CAP_ROUTER_USER),
      prefix,
      REGION,
      String(POLL_MS),
    ]);
    children.push(router);
    await within(router.ready(), 60_000, 'router start');
    const agents = new Child(lib('router-agents.ts'), [await router.call<string>('url'), REGION]);
    children.push(agents);
    await within(agents.ready(), 60_000, 'agents start');
    const pids = { router: router.proc.pid!, agents: agents.proc.pid!, load: process.pid };

    /** One measured step at `rate` events/s over the agents connected now. */
    const step = async (rate: number, servers: number): Promise<StepOutcome> => {
      const committed = new Map<number, number>();
      const loading = generate(
        store,
        { region: REGION, prefix: 'hv-', servers, rate, seconds: warmupS + seconds },
        committed,
      );
      await sleep(warmupS * 1_000);
      await agents.call('reset');
      const from = Date.now();
      const stop = probe(pids);
      await sleep(seconds * 1_000);
      const to = Date.now();
      const resources = stop();
      await within(loading, 60_000, 'router load');
      const windowIds = [...committed].filter(([, at]) => at >= from && at < to);
      const { latencies, missing } = await windowLatencies(
        () => agents.call<Report>('report'),
        (r) => r.received,
        windowIds,
        12,
      );
      const connected = await agents.call<number>('connected');
      return {
        offered: rate,
        // Delivered: the window's events that reached their agent (a count of receipts inside the
        // window would swing by a whole poll's worth with a 1 s poll interval).
        achieved: latencies.length / seconds,
        p50: strictPercentile(latencies, missing, 50),
        p99: strictPercentile(latencies, missing, 99),
        errors: missing > 0 ? { 'not received': missing } : {},
        disruption: connected < servers ? [`${servers - connected} agents disconnected`] : [],
        resources,
        extra: { connected, missing },
      };
    };

    await within(agents.call('scale', eventsAtAgents), 120_000, 'agents connect');
    const events = await ramp({
      name: `EventRouter, events/s at ${eventsAtAgents.toLocaleString('en-US')} agents`,
      unit: 'events/s',
      objectiveMs: ROUTER_OBJECTIVE_MS,
      objective: `event-to-agent p99 ≤ poll interval + 50 ms (${ROUTER_OBJECTIVE_MS} ms; append committed to agent handler)`,
      loads: env.quick ? [500, 2_000, 8_000] : [500, 1_000, 2_000, 4_000, 6_000, 8_000, 12_000],
      ctlplane: ['router'],
      load: ['agents', 'load'],
      deadline: componentDeadline(env, env.quick ? 25_000 : 90_000),
      stepBudgetMs: (warmupS + seconds) * 1_000 + 6_000,
      run: (rate) => step(rate, eventsAtAgents),
    });
    await sleep(3_000); // let a broken step's backlog drain before the next ramp

    const agentSteps = env.quick ? [1_000, 3_000, 6_000] : [2_000, 5_000, 10_000, 15_000, maxAgents];
    const agentsRamp = await ramp({
      name: `EventRouter, agents at ${agentsAtRate} events/s`,
      unit: 'agents',
      objectiveMs: ROUTER_OBJECTIVE_MS,
      objective: `event-to-agent p99 ≤ ${ROUTER_OBJECTIVE_MS} ms with every agent connected`,
      loads: agentSteps.filter((n) => n <= maxAgents),
      ctlplane: ['router'],
      load: ['agents', 'load'],
      deadline: componentDeadline(env, env.quick ? 35_000 : 140_000),
      stepBudgetMs: (warmupS + seconds) * 1_000 + 25_000,
      alsoHolds: (o, n) => (o.extra.connected ?? 0) >= n,
      explain: (s) =>
        (s.extra.connected ?? 0) < s.load
          ? `agents not connected: ${s.load - (s.extra.connected ?? 0)} of ${s.load} (router RSS ${s.extra.routerRssMiB} MiB)`
          : null,
      endNote: `the open-files limit: ${fdLimit.toLocaleString('en-US')} per process here, one socket per agent, so ${maxAgents.toLocaleString('en-US')} agents is the most one router process can hold on this machine`,
      run: async (n) => {
        const t0 = Date.now();
        await within(agents.call('scale', n), 180_000, `connect ${n} agents`);
        const connectS = (Date.now() - t0) / 1_000;
        const mem = await router.call<{ rss: number; heapUsed: number; external: number }>('memory');
        const agentsRss = await agents.call<number>('memory');
        const out = await step(agentsAtRate, n);
        return {
          ...out,
          extra: {
            ...out.extra,
            connectSeconds: Math.round(connectS * 10) / 10,
            routerRssMiB: Math.round(mem.rss / 1024 / 1024),
            routerHeapMiB: Math.round((mem.heapUsed + mem.external) / 1024 / 1024),
            agentsRssMiB: Math.round(agentsRss / 1024 / 1024),
          },
        };
      },
    });
    for (const c of children.splice(0)) await c.stop();

    const { ramp: baseline, cap } = await pollingBaseline(env, store, prefix, {
      pollMs: POLL_MS,
      objectiveMs: ROUTER_OBJECTIVE_MS,
      seconds,
      deadline: componentDeadline(env, env.quick ? 30_000 : 60_000),
    });
    return {
      events,
      agents: agentsRamp,
      baseline,
      settings: {
        pollMs: POLL_MS,
        eventsAtAgents,
        agentsAtRate,
        warmupS,
        seconds,
        fdLimit,
        baselineCap: cap,
      },
    };
  } finally {
    for (const c of children) await c.stop();
    await store.close().catch(() => {});
    await dropPrefixed(env.admin, prefix);
    for (const u of [CAP_ROUTER_USER, CAP_POLL_USER]) await env.admin.query(`DROP USER IF EXISTS '${u}'@'%'`);
  }
}
