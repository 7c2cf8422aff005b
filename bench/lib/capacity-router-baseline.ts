/**
 * The router's baseline breaking point: the 2013 design, every agent holding its own MariaDB
 * connection and polling its server's events (router-baseline.ts), ramped in agents until some
 * are refused a connection or the latency objective breaks. The baseline's MySQL user is capped at
 * what MariaDB has left but 20, so the other clients of this shared server keep working; agents
 * past the cap are refused exactly as past `max_connections` on a server of their own.
 */
import type { EventStore } from '@ctlplane/core';
import { probe } from './capacity-proc.js';
import { type RampResult, ramp, within } from './capacity-ramp.js';
import {
  CAP_POLL_USER,
  type CapacityEnv,
  connectionRoom,
  createUser,
  disruptiveErrors,
  lib,
  sleep,
} from './capacity-shared.js';
import { Child } from './router-ipc.js';
import { generate } from './router-load.js';
import { asUser, type BenchTypes } from './router-shared.js';

interface BaselineReport {
  connected: number;
  queries: number;
  connectAttempts: number;
  errors: Record<string, number>;
  latency: { count: number; p50: number | null; p99: number | null; max: number | null };
}

/** Events/s offered to the polling agents at every step. */
const BASELINE_RATE = 200;

/** Ramp the polling baseline; returns the ramp and the connection cap it ran under. */
export async function pollingBaseline(
  env: CapacityEnv,
  store: EventStore<BenchTypes>,
  prefix: string,
  o: { pollMs: number; objectiveMs: number; seconds: number; deadline: number },
): Promise<{ ramp: RampResult; cap: number }> {
  const room = await connectionRoom(env.admin);
  const cap = Math.max(1, room.max - room.held - 20);
  await createUser(env.admin, CAP_POLL_USER, cap);
  const below = env.quick ? [] : [50, 100].filter((n) => n < cap);
  const loads = [...below, cap, cap + 25];
  const result = await ramp({
    name: 'Baseline: agents poll MariaDB',
    unit: 'agents',
    objectiveMs: o.objectiveMs,
    objective: `event-to-agent p99 ≤ ${o.objectiveMs} ms (from just before the append) with every agent connected`,
    loads,
    ctlplane: [],
    load: ['agents', 'load'],
    deadline: o.deadline,
    stepBudgetMs: o.seconds * 1_000 + o.pollMs * 4 + 6_000,
    alsoHolds: (out, n) => (out.extra.connected ?? 0) >= n,
    explain: (s) =>
      (s.extra.connected ?? 0) < s.load
        ? `MariaDB connections: ${s.load - (s.extra.connected ?? 0)} of ${s.load} agents refused (${Object.keys(s.errors).join(', ') || 'connection limit'}); their servers never see their events`
        : null,
    run: async (n) => {
      const child = new Child(lib('router-baseline.ts'), [
        asUser(env.mysqlUrl, CAP_POLL_USER),
        prefix,
        String(n),
        String(o.pollMs),
      ]);
      try {
        await within(child.ready(), 60_000, 'baseline agents start');
        await sleep(o.pollMs * 2); // every agent tried to connect
        await child.call('reset');
        const stop = probe({ agents: child.proc.pid!, load: process.pid });
        const load = await generate(store, {
          region: 'base',
          prefix: 'base-',
          servers: n,
          rate: BASELINE_RATE,
          seconds: o.seconds,
        });
        const resources = stop();
        await sleep(o.pollMs + 500); // the last events' poll
        const r = await child.call<BaselineReport>('report');
        const inf = (v: number | null) => (v === null ? Number.POSITIVE_INFINITY : v);
        const refused = Object.values(r.errors).reduce((a, b) => a + b, 0);
        return {
          offered: BASELINE_RATE,
          achieved: r.latency.count / load.seconds,
          p50: inf(r.latency.p50),
          p99: inf(r.latency.p99),
          errors: r.errors,
          disruption: disruptiveErrors(r.errors),
          resources,
          extra: {
            connected: r.connected,
            refused,
            queriesPerS: r.queries / load.seconds,
            dbConnections: r.connected,
          },
        };
      } finally {
        await child.stop();
      }
    },
  });
  return { ramp: result, cap };
}
