/**
 * `npm run bench -- router`: one EventRouter process on MariaDB, agents simulated in another
 * process on loopback, at 1,000 and 10,000 connected agents and 1,000 events/s; polling input,
 * then the pushed (RabbitMQ) input. Baseline in the same run: the 2012 design, every agent polling
 * MariaDB itself, at 100 and 1,000 agents.
 *
 * `--only push`: the pushed phase alone, printed, nothing written (to iterate on the pushed path).
 *
 * Env: CTLPLANE_MYSQL_URL, CTLPLANE_AMQP_URL, CTLPLANE_BENCH_ROUTER_SECONDS (default 20),
 * CTLPLANE_BENCH_ROUTER_POLL_MS (default 1000), CTLPLANE_BENCH_RELAY_IN_FLIGHT (the relay's
 * maxInFlight, default 4 as Harpoon's), CTLPLANE_BENCH_CHILD_NODE_ARGS (Node flags for the router
 * and agents processes, e.g. '--cpu-prof --cpu-prof-dir=/tmp/p').
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { EventStore, type OutboxRelay, type RouterStats } from '@ctlplane/core';
import { connect as amqpConnect } from 'amqplib';
import { createPool } from 'mysql2/promise';
import { cpuMeter, pidOf } from './lib/router-cpu.js';
import { Child, summarize } from './lib/router-ipc.js';
import { generate, ProcesslistSampler, startRelay } from './lib/router-load.js';
import { renderRouterReport } from './lib/router-report.js';
import { asUser, BENCH_PASSWORD, benchTypes, POLL_USER, ROUTER_USER } from './lib/router-shared.js';
import { pushStages } from './lib/router-stages.js';
import { LoopDelay } from './lib/stage-clock.js';

const MYSQL = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const AMQP = process.env.CTLPLANE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const SECONDS = Number(process.env.CTLPLANE_BENCH_ROUTER_SECONDS ?? 20);
const POLL_MS = Number(process.env.CTLPLANE_BENCH_ROUTER_POLL_MS ?? 1_000);
const RATE = 1_000;
const ONLY_PUSH = process.argv.slice(2).join(' ') === '--only push';
const WARMUP_S = 3;
const REGION = 'bench';
const tag = randomBytes(4).toString('hex');
const prefix = `bench_rt_${tag}_`;
const exchange = `ctlplane.bench.router.${tag}`;
const queue = `router.${REGION}.${tag}`;
const lib = (f: string) => join(import.meta.dirname, 'lib', f);
process.env.CTLPLANE_BENCH_AGENT_SECRET = randomBytes(32).toString('hex');

const admin = createPool({ uri: MYSQL, connectionLimit: 2 });
const db = (await admin.query<import('mysql2').RowDataPacket[]>('SELECT DATABASE() AS d'))[0][0]!.d as string;
// The baseline may take every connection MariaDB has left, but 20: other clients of this shared
// server keep working, and the baseline still runs into the limit the way it would alone.
const rowsOf = async (sql: string) => (await admin.query<import('mysql2').RowDataPacket[]>(sql))[0];
const maxConnections = Number((await rowsOf('SELECT @@max_connections AS m'))[0]!.m);
const othersHeld = Number((await rowsOf('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST'))[0]!.n);
const baselineCap = Math.max(1, maxConnections - othersHeld - 20);
for (const [user, limit] of [
  [ROUTER_USER, 0],
  [POLL_USER, baselineCap],
] as const) {
  await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
  await admin.query(
    `CREATE USER '${user}'@'%' IDENTIFIED BY '${BENCH_PASSWORD}' WITH MAX_USER_CONNECTIONS ${limit}`,
  );
  await admin.query(`GRANT ALL ON \`${db}\`.* TO '${user}'@'%'`);
}
const loadDriver = new MysqlEventStoreDriver({
  url: MYSQL,
  tablePrefix: prefix,
  poolSize: 16,
  migrate: true,
});
await loadDriver.ready();
const store = new EventStore({ driver: loadDriver, types: benchTypes });
const children: Child[] = [];
const loadLoop = new LoopDelay();

async function cleanup(): Promise<void> {
  for (const c of children.splice(0)) await c.stop();
  await store.close().catch(() => {});
  const [rows] = await admin.query<import('mysql2').RowDataPacket[]>(
    'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
    [`${prefix.replaceAll('_', '\\_')}%`],
  );
  for (const r of rows) await admin.query(`DROP TABLE IF EXISTS \`${String(r.t)}\``);
  for (const user of [ROUTER_USER, POLL_USER]) await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
  await admin.end();
  const conn = await amqpConnect(AMQP).catch(() => null);
  if (conn) {
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    for (const q of [queue, `${queue}.dead-letter`]) await ch.deleteQueue(q).catch(() => {});
    for (const e of [exchange, `${exchange}.dead-letter`]) await ch.deleteExchange(e).catch(() => {});
    await conn.close().catch(() => {});
  }
}

type Latency = ReturnType<typeof summarize>;

/** The 2012 design at `count` agents. */
async function baseline(count: number) {
  const sampler = new ProcesslistSampler(admin, POLL_USER);
  const child = new Child(lib('router-baseline.ts'), [
    asUser(MYSQL, POLL_USER),
    prefix,
    String(count),
    String(POLL_MS),
  ]);
  children.push(child);
  await child.ready();
  await new Promise((r) => setTimeout(r, POLL_MS * 2)); // every agent tried to connect
  await child.call('reset');
  sampler.start();
  const load = await generate(store, {
    region: 'base',
    prefix: 'base-',
    servers: count,
    rate: RATE,
    seconds: SECONDS / 2,
  });
  const conns = sampler.stop();
  const r = await child.call<{
    connected: number;
    queries: number;
    connectAttempts: number;
    errors: Record<string, number>;
    latency: Latency;
  }>('report');
  await child.stop();
  children.splice(children.indexOf(child), 1);
  return { count, connections: conns.max, queriesPerS: r.queries / load.seconds, ...r };
}

type Report = Latency & { redeliveries: number; received: number[] };

/** How many events committed between `from` and `to` no agent has received yet. */
function missingOf(rep: Report, committed: Map<number, number>, from: number, to: number) {
  const seen = new Set<number>();
  for (let i = 0; i < rep.received.length; i += 2) seen.add(rep.received[i]!);
  let expected = 0;
  let missing = 0;
  for (const [id, at] of committed) {
    if (at < from || at > to) continue;
    expected++;
    if (!seen.has(id)) missing++;
  }
  return { expected, missing };
}

type Loop = { p50: number; p99: number; max: number };

/** How long the relay's feed reads and publishes (until the broker's confirms) take, ms. */
const relayCalls = { read: [] as number[], publish: [] as number[] };
function timeRelayCalls(s: typeof store, b: AmqpBus): void {
  const timed =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>, into: number[]) =>
    async (...a: A): Promise<R> => {
      const t = performance.now();
      try {
        return await fn(...a);
      } finally {
        into.push(performance.now() - t);
      }
    };
  s.readFeed = timed(s.readFeed.bind(s), relayCalls.read) as typeof s.readFeed;
  b.publishMany = timed(b.publishMany.bind(b), relayCalls.publish);
}

/** Load at the current number of agents, measured after a warm-up; with the relay, per stage. */
async function measure(router: Child, agents: Child, servers: number, relay?: OutboxRelay) {
  const sampler = new ProcesslistSampler(admin, ROUTER_USER);
  sampler.start();
  const committed = new Map<number, number>();
  const seqs = new Map<number, number>();
  const published: [number, number][] = [];
  const onPublished = ({ cursor }: { cursor: number }) => published.push([cursor, Date.now()]);
  relay?.on('relay:published', onPublished);
  const loading = generate(
    store,
    { region: REGION, prefix: 'hv-', servers, rate: RATE, seconds: SECONDS },
    committed,
    seqs,
  );
  await new Promise((r) => setTimeout(r, WARMUP_S * 1_000));
  await agents.call('reset');
  await router.call('loop');
  await router.call('stages');
  loadLoop.take();
  relayCalls.read.length = 0;
  relayCalls.publish.length = 0;
  const tReset = Date.now();
  const cpu = cpuMeter({
    router: router.proc.pid!,
    agents: agents.proc.pid!,
    load: process.pid,
    mariadb: pidOf('mariadbd'),
    rabbitmq: pidOf('beam.smp'),
  });
  const before = await router.call<RouterStats>('stats');
  const load = await loading;
  const tEnd = Date.now();
  const cpuPct = cpu();
  const after = await router.call<RouterStats>('stats');
  const seconds = (tEnd - tReset) / 1_000;
  // Let the last events arrive: until every event committed in the window was received (at most 30 s).
  let rep = await agents.call<Report>('report');
  while (missingOf(rep, committed, tReset, tEnd).missing > 0 && Date.now() - tEnd < 30_000) {
    await new Promise((r) => setTimeout(r, 500));
    rep = await agents.call<Report>('report');
  }
  const conns = sampler.stop();
  relay?.off('relay:published', onPublished);
  const loop = {
    router: await router.call<Loop>('loop'),
    agents: await agents.call<Loop>('loop'),
    load: loadLoop.take(),
  };
  const stages = relay
    ? pushStages({
        appendMs: load.appendMs,
        committed,
        seqs,
        published,
        fromBus: await router.call<number[]>('stages'),
        agentReceived: rep.received,
        relayReadMs: relayCalls.read,
        relayPublishMs: relayCalls.publish,
      })
    : undefined;
  const perS = (k: keyof RouterStats['dbQueries']) => (after.dbQueries[k] - before.dbQueries[k]) / seconds;
  const fromCommit: number[] = [];
  for (let i = 0; i < rep.received.length; i += 2) {
    const c = committed.get(rep.received[i]!);
    if (c !== undefined) fromCommit.push(rep.received[i + 1]! - c);
  }
  const { expected, missing } = missingOf(rep, committed, tReset, tEnd);
  const { received: _received, ...fromAppend } = rep;
  return {
    servers,
    connections: conns.max,
    queriesPerS: perS('total'),
    readsPerS: perS('readFeed'),
    transitionsPerS: perS('transition'),
    latency: summarize(fromCommit),
    fromAppend,
    expected,
    missing,
    cpu: cpuPct,
    appended: load.appended,
    loop,
    stages,
    agentsConnected: after.agentsConnected,
    bytesPerEvent: (after.bytesSent - before.bytesSent) / Math.max(1, after.delivered - before.delivered),
  };
}

try {
  console.log(`router bench: ${RATE} events/s, poll ${POLL_MS} ms, ${SECONDS} s per phase`);
  const loadAverage = loadavg()[0]!;
  const base100 = ONLY_PUSH ? null : await baseline(100);
  console.log('baseline 100:', JSON.stringify(base100));
  const base1000 = ONLY_PUSH ? null : await baseline(1_000);
  console.log('baseline 1000:', JSON.stringify(base1000));

  const router = new Child(lib('router-server.ts'), [
    asUser(MYSQL, ROUTER_USER),
    prefix,
    REGION,
    String(POLL_MS),
  ]);
  children.push(router);
  await router.ready();
  const url = await router.call<string>('url');
  const agents = new Child(lib('router-agents.ts'), [url, REGION]);
  children.push(agents);
  await agents.ready();

  type Mem = { rss: number; heapUsed: number; external: number; arrayBuffers: number };
  const mem0 = await router.call<Mem>('memory');
  await agents.call('scale', 1_000);
  const mem1k = await router.call<Mem>('memory');
  const connected10kIdle = await agents.call<number>('scale', 10_000);
  const mem10k = await router.call<Mem>('memory');
  const agentsRss10k = await agents.call<number>('memory');
  console.log('memory', { mem0, mem1k, mem10k, connected10kIdle });

  await agents.call('scale', 1_000);
  const poll1k = ONLY_PUSH ? null : await measure(router, agents, 1_000);
  console.log('poll 1k:', JSON.stringify(poll1k));
  await agents.call('scale', 10_000);
  const poll10k = ONLY_PUSH ? null : await measure(router, agents, 10_000);
  console.log('poll 10k:', JSON.stringify(poll10k));

  const bus = new AmqpBus({ urls: AMQP, topology: { exchange }, connectionName: 'ctlplane-bench-relay' });
  await bus.ready();
  timeRelayCalls(store, bus);
  const relay = startRelay(store, bus, await store.head());
  await router.call('switchToBus', { amqpUrl: AMQP, exchange, queue });
  const push10k = await measure(router, agents, 10_000, relay);
  console.log('push 10k:', JSON.stringify(push10k));
  await relay.stop();
  await agents.stop();
  await router.stop();
  children.length = 0;
  await bus.deleteQueue(queue).catch(() => {});
  await bus.close();

  if (!base100 || !base1000 || !poll1k || !poll10k) process.exit(0); // --only push: printed above
  renderRouterReport({
    limits: { maxConnections, othersHeld, baselineCap },
    loadAverage,
    rate: RATE,
    pollMs: POLL_MS,
    seconds: SECONDS,
    base100,
    base1000,
    poll1k,
    poll10k,
    push10k,
    memory: { mem0, mem1k, mem10k, connected10kIdle, agentsRss10k },
  });
} finally {
  await cleanup();
}
