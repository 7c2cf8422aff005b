/**
 * `npm run bench -- harpoon [--quick]`: 1,000 concurrent callers creating single events directly
 * (a pool of 16 connections, one transaction per event) versus through Harpoon (group commit over
 * a pool of 4), on MariaDB and RabbitMQ in one run; then the outbox relay's publish rate against
 * a raw amqplib confirm-channel publisher to the same kind of quorum queue. The Harpoon runs, in one
 * process: a short warm-up (discarded), then untraced, traced, traced, untraced (ABBA: each figure is
 * the mean of its two runs, so a drift over the run weighs on both alike; an earlier layout ran the
 * untraced run first and cold, and later runs came out faster whatever they traced) — untraced is
 * `harpoon_eps`, traced is an OpenTelemetry SDK registered with each create in a caller span
 * (`harpoon_eps_traced`, see bench/lib/tracing-sdk.ts); then two runs that split the traced run's
 * cost: the AsyncLocalStorage context manager alone
 * (`harpoon_eps_context_only`: the runtime's async context tracking, no tracer provider) and the
 * whole SDK without caller spans (`harpoon_eps_sdk_only`: ctlplane's own spans, no application
 * spans). Traced minus SDK-only is what the application's spans and ctlplane's per-event work for
 * them cost; context-only minus untraced is the runtime's cost, outside ctlplane.
 *
 * `--smoke`: 20 callers for 0.5 s and a 1,000-event relay backlog, printing the figures without
 * writing docs/benchmarks.md or bench/results/harpoon.json: a check that the script runs.
 */
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlCursorStore, MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Harpoon, toWireEvent, wireEventSchema } from '@ctlplane/core';
import { connect } from 'amqplib';
import { createPool, type RowDataPacket } from 'mysql2/promise';
import { create, type TestSchemas, testTypes } from '../test/contract/event-store.fixtures.js';
import { percentile, table, writeReport } from './lib/report.js';
import { dropTables } from './lib/tables.js';
import { registerTracing } from './lib/tracing-sdk.js';

const mysqlUrl = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const amqpUrl = process.env.CTLPLANE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const quick = process.argv.includes('--quick');
const smoke = process.argv.includes('--smoke');
const CALLERS = smoke ? 20 : 1_000;
const DURATION_MS = smoke ? 500 : quick ? 3_000 : 8_000;
const WARMUP_MS = smoke ? 300 : 3_000;
const RELAY_EVENTS = smoke ? 1_000 : quick ? 10_000 : 40_000;
const HARPOON_POOL = 4;
const admin = createPool({ uri: mysqlUrl, connectionLimit: 2 });
const prefixes: string[] = [];

async function freshStore(poolSize: number) {
  const tablePrefix = `hbench_${randomBytes(3).toString('hex')}_`;
  prefixes.push(tablePrefix);
  await migrate({ url: mysqlUrl, tablePrefix });
  const driver = new MysqlEventStoreDriver({ url: mysqlUrl, tablePrefix, poolSize });
  return { driver, tablePrefix, store: new EventStore({ driver, types: testTypes }) };
}

/** `CALLERS` loops each creating one event at a time for `durationMs`; returns events/s. */
async function callers(
  createOne: (i: number) => Promise<unknown>,
  durationMs = DURATION_MS,
): Promise<{ eps: number; p99: number }> {
  const end = Date.now() + durationMs;
  let done = 0;
  const lat: number[] = [];
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, c) => {
      for (let i = 0; Date.now() < end; i++) {
        const t0 = performance.now();
        await createOne(c * 1_000_000 + i);
        lat.push(performance.now() - t0);
        done++;
      }
    }),
  );
  return { eps: done / (durationMs / 1000), p99: percentile(lat, 99) };
}

async function serverConnections(): Promise<number> {
  const [rows] = await admin.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = DATABASE()',
  );
  return Number(rows[0]!.n);
}

async function rawAmqpRate(n: number, body: string): Promise<number> {
  const conn = await connect(amqpUrl);
  const ch = await conn.createConfirmChannel();
  const q = `raw-bench-${randomBytes(3).toString('hex')}`;
  await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const t0 = performance.now();
  for (let sent = 0; sent < n; sent += 500) {
    for (let i = 0; i < 500 && sent + i < n; i++) {
      if (!ch.publish('', q, Buffer.from(body), { persistent: true, messageId: `m${sent + i}` })) {
        await new Promise((r) => ch.once('drain', r));
      }
    }
    await ch.waitForConfirms();
  }
  const eps = n / ((performance.now() - t0) / 1000);
  await ch.deleteQueue(q);
  await conn.close();
  return eps;
}

/**
 * 1,000 callers through Harpoon (group commit, relay to RabbitMQ) on fresh tables for `durationMs`;
 * `inSpan` runs each create in a caller's span (the traced run).
 */
async function throughHarpoon(
  inSpan: ((fn: () => Promise<void>) => Promise<void>) | null,
  durationMs = DURATION_MS,
) {
  const exchange = `ctl-bench-${randomBytes(3).toString('hex')}`;
  const queue = `bench-audit-${randomBytes(3).toString('hex')}`;
  const h = await freshStore(HARPOON_POOL);
  const bus = new AmqpBus({
    urls: amqpUrl,
    topology: { exchange, queues: [{ name: queue, bindings: ['evt.#'] }] },
  });
  await bus.ready();
  const harpoon = new Harpoon<TestSchemas>({
    store: h.store,
    bus,
    cursors: new MysqlCursorStore({ pool: h.driver.pool, tablePrefix: h.tablePrefix }),
    creates: { maxBatch: 500, lingerMs: 2, concurrency: 3 },
    maxPending: 20_000,
  }).start();
  const createdAt = new Map<number, number>();
  const publishLat: number[] = [];
  const consumer = new AmqpBus({ urls: amqpUrl, topology: { exchange } });
  await consumer.subscribe({ queue, prefetch: 1_000 }, (dl) => {
    const e = wireEventSchema.parse(dl.message.body);
    const t = createdAt.get(e.id);
    if (t !== undefined) publishLat.push(performance.now() - t);
  });
  let maxConns = 0;
  const probe = setInterval(() => {
    maxConns = Math.max(maxConns, h.driver.connections());
  }, 5);
  const base2 = await serverConnections();
  const createOne = async (i: number) => {
    const t0 = performance.now();
    const e = await harpoon.create(create(i));
    createdAt.set(e.id, t0);
  };
  // Traced, each create runs in a caller's span of its own, as a traced application's would.
  const run = await callers(inSpan ? (i) => inSpan(() => createOne(i)) : createOne, durationMs);
  const serverSide = (await serverConnections()) - base2;
  clearInterval(probe);
  const committed = (
    await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${h.tablePrefix}events\``)
  )[0][0]!.n as number;
  for (let i = 0; i < 600 && publishLat.length < Number(committed); i++)
    await new Promise((r) => setTimeout(r, 100));
  console.error(inSpan ? 'harpoon (traced)' : 'harpoon', run, {
    maxConns,
    committed,
    published: publishLat.length,
  });
  await harpoon.close();
  await consumer.close();
  await bus.deleteQueue(queue);
  await Promise.all([bus.close(), h.store.close()]);
  return { exchange, run, maxConns, lost: Number(committed) - publishLat.length, publishLat, serverSide };
}

/** One Harpoon run with the OpenTelemetry SDK registered and each create in a caller span. */
async function tracedRun() {
  const tracing = registerTracing();
  const result = await throughHarpoon(tracing.inSpan);
  return { ...result, spans: await tracing.stop() };
}

const mean = (a: number, b: number) => (a + b) / 2;

async function main(): Promise<void> {
  const m: Record<string, number> = {};
  // 1. Direct: every caller its own transaction through a pool of 16.
  const direct = await freshStore(16);
  const baseConns = await serverConnections();
  const d = await callers((i) => direct.store.append([create(i)]));
  m.direct_db_connections = (await serverConnections()) - baseConns;
  await direct.store.close();
  m.direct_eps = Math.round(d.eps);
  console.error('direct', d);

  // 2. Through Harpoon: group commit over a pool of 4, relaying to RabbitMQ. A warm-up run
  // (discarded), then untraced, traced, traced, untraced; each figure the mean of its two runs.
  console.error('harpoon warm-up', (await throughHarpoon(null, WARMUP_MS)).run);
  const u1 = await throughHarpoon(null);
  const t1 = await tracedRun();
  const t2 = await tracedRun();
  const u2 = await throughHarpoon(null);
  const { exchange, publishLat, serverSide } = u1;
  const hr = { eps: mean(u1.run.eps, u2.run.eps), p99: mean(u1.run.p99, u2.run.p99) };
  const traced = { eps: mean(t1.run.eps, t2.run.eps), p99: mean(t1.run.p99, t2.run.p99) };
  const spans = t1.spans + t2.spans;
  m.harpoon_eps = Math.round(hr.eps);
  m.harpoon_server_side_connections = serverSide;
  m.harpoon_db_connections = Math.max(u1.maxConns, u2.maxConns);
  m.harpoon_pool_size = HARPOON_POOL;
  m.create_to_publish_p50_ms = Math.round(percentile(publishLat, 50));
  m.create_to_publish_p99_ms = Math.round(percentile(publishLat, 99));
  m.harpoon_vs_direct_ratio = Number((hr.eps / d.eps).toFixed(2));
  m.lost = u1.lost + u2.lost;
  m.harpoon_eps_traced = Math.round(traced.eps);
  m.harpoon_traced_vs_untraced_ratio = Number((traced.eps / hr.eps).toFixed(2));
  m.harpoon_traced_p99_ms = Math.round(traced.p99);
  m.harpoon_traced_spans = spans;
  m.harpoon_traced_lost = t1.lost + t2.lost;
  const runs = [u1, t1, t2, u2].map((r) => Math.round(r.run.eps));
  console.error('harpoon untraced, traced, traced, untraced', runs, { spans });
  // The same run with the context manager alone, then with the SDK but no caller spans.
  for (const [key, contextOnly] of [
    ['context_only', true],
    ['sdk_only', false],
  ] as const) {
    const sdk = registerTracing({ contextOnly });
    const part = await throughHarpoon(null);
    await sdk.stop();
    m[`harpoon_eps_${key}`] = Math.round(part.run.eps);
    m[`harpoon_${key}_vs_untraced_ratio`] = Number((part.run.eps / hr.eps).toFixed(2));
    console.error(`harpoon ${key}`, part.run);
  }
  const bus2 = new AmqpBus({ urls: amqpUrl, topology: { exchange } });
  await bus2.ready();

  // 3. Relay throughput: a backlog of committed events, relayed from a fresh cursor.
  const r = await freshStore(4);
  for (let i = 0; i < RELAY_EVENTS; i += 1_000)
    await r.store.append(Array.from({ length: 1_000 }, (_, j) => create(i + j)));
  const relayQueue = `bench-relay-${randomBytes(3).toString('hex')}`;
  // A bound queue with no consumer, like the raw publisher's: both measure publishing alone.
  const sink = new AmqpBus({
    urls: amqpUrl,
    topology: { exchange, queues: [{ name: relayQueue, bindings: ['evt.#'] }] },
  });
  await sink.ready();
  await sink.close();
  const relay = new Harpoon<TestSchemas>({
    store: r.store,
    bus: bus2,
    cursors: new MysqlCursorStore({ pool: r.driver.pool, tablePrefix: r.tablePrefix }),
    relay: { batchSize: 2_000, pollMs: 20 },
  });
  const t0 = performance.now();
  relay.start();
  const head = await r.store.head();
  while (relay.stats.relayCursor < head) await new Promise((res) => setTimeout(res, 20));
  const relayEps = RELAY_EVENTS / ((performance.now() - t0) / 1000);
  await relay.close();
  const sample = JSON.stringify(toWireEvent((await r.store.query({ limit: 1 })).events[0]!));
  const rawEps = await rawAmqpRate(RELAY_EVENTS, sample);
  m.relay_eps = Math.round(relayEps);
  m.raw_amqp_eps = Math.round(rawEps);
  m.relay_vs_raw_ratio = Number((relayEps / rawEps).toFixed(2));
  await bus2.deleteQueue(relayQueue);
  await Promise.all([bus2.close(), r.store.close()]);
  for (const p of prefixes) await dropTables(admin, p);
  await admin.end();

  const body = [
    `${CALLERS} concurrent callers, each creating one event at a time for ${DURATION_MS / 1000} s, on MariaDB; Harpoon relays to a RabbitMQ quorum queue. Same run, same machine.`,
    '',
    table(
      ['design', 'events/s', 'DB connections', 'caller p99 (ms)'],
      [
        ['direct: pool of 16, one transaction per event', d.eps, m.direct_db_connections!, d.p99],
        [`through Harpoon: group commit, pool of ${HARPOON_POOL}`, hr.eps, m.harpoon_db_connections!, hr.p99],
      ],
    ),
    '',
    `Harpoon vs direct: **${m.harpoon_vs_direct_ratio}×** (target ≥ 5×). With an OpenTelemetry SDK registered (BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, AsyncLocalStorage context manager; each create in a caller span of its own, ${spans.toLocaleString('en-US')} spans ended): **${m.harpoon_eps_traced} events/s**, **${m.harpoon_traced_vs_untraced_ratio}×** the untraced runs (target ≥ 0.9×), caller p99 ${m.harpoon_traced_p99_ms} ms. Runs in order, after a ${WARMUP_MS / 1000} s warm-up: untraced ${runs[0]!.toLocaleString('en-US')}, traced ${runs[1]!.toLocaleString('en-US')}, traced ${runs[2]!.toLocaleString('en-US')}, untraced ${runs[3]!.toLocaleString('en-US')} events/s (each figure above is the mean of its two). Harpoon's connections peaked at ${m.harpoon_db_connections} of its pool of ${HARPOON_POOL}. Create → confirmed publish → consumed: p50 ${m.create_to_publish_p50_ms} ms, p99 ${m.create_to_publish_p99_ms} ms. Committed but never published: ${m.lost}.`,
    '',
    `Where the traced run's time goes: the AsyncLocalStorage context manager alone (no tracer provider) gives **${m.harpoon_eps_context_only} events/s** (${m.harpoon_context_only_vs_untraced_ratio}× untraced: the runtime's cost, outside ctlplane); the SDK registered with no caller spans (ctlplane's own spans only) **${m.harpoon_eps_sdk_only} events/s** (${m.harpoon_sdk_only_vs_untraced_ratio}×). The rest of the traced run's gap is the application's caller spans and what ctlplane does per event for them (see docs/operations.md, Tracing).`,
    '',
    table(
      ['publisher', 'messages/s (confirmed, quorum queue)'],
      [
        [
          `outbox relay (${RELAY_EVENTS.toLocaleString('en-US')} committed events, feed → bus → cursor)`,
          relayEps,
        ],
        ['raw amqplib confirm channel, 500 in flight', rawEps],
      ],
    ),
    '',
    `Relay vs raw amqplib: **${m.relay_vs_raw_ratio}×** (target relay ≥ 10,000/s).`,
  ].join('\n');
  if (smoke) {
    console.log(JSON.stringify(m, null, 2));
    return;
  }
  writeReport({ name: 'harpoon', title: 'Harpoon (`npm run bench -- harpoon`)', body, metrics: m });
}

await main();
