/**
 * Moving a fleet from direct database polling to the EventRouter. First every agent polls the
 * events table over its own connection (DigitalOcean, 2013); then the same agents connect to one
 * EventRouter per region, which reads the region's changes in one small query per cycle and
 * pushes each agent its own events (2014). Prints the database connections and queries of both.
 *
 *   node --import tsx packages/examples/src/polling-to-router/main.ts [--servers 30] [--mysql URL]
 */
import { Agent, AgentKeyring, EventRouter, InProcessTransport, StorePollInput, sleep } from '@ctlplane/core';
import { z } from 'zod';
import { parseFlags } from '../shared/cli.js';
import { type Database, memoryDatabase, mysqlDatabase, type Store } from './db.js';
import { PollingFleet } from './polling-agents.js';

const USAGE = `Usage: node --import tsx packages/examples/src/polling-to-router/main.ts [options]
  --servers <n>        hypervisors, each with an agent (default 30)
  --events <n>         droplets to boot in each phase (default 300)
  --poll-ms <n>        poll interval of the agents, then of the router (default 500)
  --mysql <url>        run on MariaDB/MySQL and count connections in its processlist
  --table-prefix <p>   MySQL table prefix (default p2r_)
`;
const o = parseFlags(
  z
    .object({
      servers: z.coerce.number().int().min(1).max(140).default(30),
      events: z.coerce.number().int().min(1).max(100_000).default(300),
      pollMs: z.coerce.number().int().min(10).max(60_000).default(500),
      mysql: z.string().startsWith('mysql://', 'must be a mysql:// URL').optional(),
      tablePrefix: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_]{0,30}$/)
        .default('p2r_'),
    })
    .strict(),
  ['servers', 'events', 'poll-ms', 'mysql', 'table-prefix'],
  USAGE,
);

const WORK_MS = 20;
const servers = Array.from({ length: o.servers }, (_, i) => `hv-${i + 1}`);
const db: Database = o.mysql ? await mysqlDatabase(o.mysql, o.tablePrefix) : memoryDatabase();
const api = await db.open(1); // the API appending events: one connection in both designs

/** Append `n` droplets placed round-robin on the servers; resolve when all are done. */
async function bootAll(phase: string): Promise<{ ms: number; peak: number }> {
  const started = Date.now();
  const created = await api.append(
    Array.from({ length: o.events }, (_, i) => ({
      type: 'droplet.create' as const,
      payload: { size: 's-1vcpu-1gb' },
      region: 'nyc1',
      serverId: servers[i % servers.length]!,
      idempotencyKey: `${phase}-${i}`,
    })),
  );
  let peak = 0;
  do {
    peak = Math.max(peak, await db.connections());
    await sleep(100);
  } while (!(await allDone(created[0]!.id, created.at(-1)!.id)));
  return { ms: Date.now() - started, peak };
}

async function allDone(first: number, last: number): Promise<boolean> {
  let cursor: string | null = String(first - 1);
  let done = 0;
  while (cursor !== null) {
    const page = await api.query({ status: 'done', cursor, limit: 1_000 });
    done += page.events.filter((e) => e.id <= last).length;
    cursor = page.nextCursor;
  }
  return done >= last - first + 1;
}

const rate = (n: number, ms: number) => `${Math.round((n * 1_000) / Math.max(1, ms))}/s`;
console.log(
  `${o.servers} hypervisors, ${o.events} droplets per phase; connections counted from ${db.source}`,
);

// Before: every agent polls the database.
const polling = new PollingFleet();
await polling.start(db, servers, o.pollMs, WORK_MS);
const before = await bootAll('polling');
const pollQueries = polling.queries;
await polling.stop();
console.log(
  `polling:      ${o.servers} agents polling the database every ${o.pollMs} ms -> ${before.peak} database connections, ` +
    `${pollQueries} queries (${rate(pollQueries, before.ms)}), ${o.events} droplets done in ${(before.ms / 1_000).toFixed(1)} s`,
);

// After: one EventRouter for the region; agents connect to it and never touch the database.
const routerStore: Store = await db.open(2);
const keyring = new AgentKeyring({
  keys: [{ kid: 'k1', secret: 'polling-to-router-example-secret-0123456789' }],
});
const router = new EventRouter({
  store: routerStore,
  region: 'nyc1',
  auth: keyring,
  input: new StorePollInput({ store: routerStore, pollMs: o.pollMs }),
  maxDbConcurrency: 2,
});
const transport = new InProcessTransport();
await router.listen(transport.server('router-nyc1'));
const agents = servers.map(
  (serverId) =>
    new Agent({
      serverId,
      token: keyring.sign({ serverId, region: 'nyc1' }),
      urls: ['inproc://router-nyc1'],
      connector: transport,
      handlers: {
        'droplet.create': async () => {
          await sleep(WORK_MS);
          return { booted: true };
        },
      },
    }),
);
await Promise.all(agents.map((a) => a.start()));
const queriesBefore = router.stats().dbQueries.total;
const after = await bootAll('router');
const routerQueries = router.stats().dbQueries.total - queriesBefore;
console.log(
  `event router: ${router.stats().agentsConnected} agents connected to 1 EventRouter -> ${after.peak} database connections, ` +
    `${routerQueries} queries (${rate(routerQueries, after.ms)}), ${o.events} droplets done in ${(after.ms / 1_000).toFixed(1)} s`,
);
console.log(`database connections: ${before.peak} -> ${after.peak} (the API's included in both)`);

await Promise.all(agents.map((a) => a.stop()));
await router.close();
await db.close();
