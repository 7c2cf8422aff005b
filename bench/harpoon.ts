/**
 * `npm run bench -- harpoon [--quick]`: 1,000 concurrent callers creating single events directly
 * (a pool of 16 connections, one transaction per event) versus through Harpoon (group commit over
 * a pool of 4), on MariaDB and RabbitMQ in one run; then the outbox relay's publish rate against
 * a raw amqplib confirm-channel publisher to the same kind of quorum queue. The Harpoon run is done
 * in five modes (see {@link Mode}): untraced (`harpoon_eps`), traced (`harpoon_eps_traced`: an
 * OpenTelemetry SDK registered, bench/lib/tracing-sdk.ts, and every create carrying a trace
 * context), and three that split the cost (a span per create, the SDK alone, the context manager
 * alone). After a short warm-up (discarded) each mode runs twice, in mirrored order (1 2 3 4 5 5 4
 * 3 2 1), and each figure is the mean of its two runs: an earlier layout ran the untraced run first
 * and cold, and later runs came out faster whatever they traced.
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
import { benchHarpoonOptions } from './lib/harpoon-options.js';
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

/** Runs a function in a span of its own (the caller's span), or as it is. */
type Wrap = (fn: () => Promise<void>) => Promise<void>;
const asIs: Wrap = (fn) => fn();

/**
 * `CALLERS` loops each creating one event at a time for `durationMs`; returns events/s. Each
 * caller's whole loop runs in `wrapCaller`, each create in `wrapCreate`.
 */
async function callers(
  createOne: (i: number) => Promise<unknown>,
  durationMs = DURATION_MS,
  wrapCaller: Wrap = asIs,
  wrapCreate: Wrap = asIs,
): Promise<{ eps: number; p99: number }> {
  const end = Date.now() + durationMs;
  let done = 0;
  const lat: number[] = [];
  await Promise.all(
    Array.from({ length: CALLERS }, (_, c) =>
      wrapCaller(async () => {
        for (let i = 0; Date.now() < end; i++) {
          const t0 = performance.now();
          await wrapCreate(async () => void (await createOne(c * 1_000_000 + i)));
          lat.push(performance.now() - t0);
          done++;
        }
      }),
    ),
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
 * 1,000 callers through Harpoon (group commit, relay to RabbitMQ) on fresh tables for `durationMs`,
 * each caller's loop in `wrapCaller` and each create in `wrapCreate` (spans, in the traced modes).
 */
async function throughHarpoon(durationMs = DURATION_MS, wrapCaller: Wrap = asIs, wrapCreate: Wrap = asIs) {
  const exchange = `ctl-bench-${randomBytes(3).toString('hex')}`;
  const queue = `bench-audit-${randomBytes(3).toString('hex')}`;
  const h = await freshStore(HARPOON_POOL);
  const bus = new AmqpBus({
    urls: amqpUrl,
    topology: { exchange, queues: [{ name: queue, bindings: ['evt.#'] }] },
  });
  await bus.ready();
  const harpoon = new Harpoon<TestSchemas>(
    benchHarpoonOptions(h.store, bus, h.driver, h.tablePrefix),
  ).start();
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
  const cpu0 = process.cpuUsage();
  const run = await callers(createOne, durationMs, wrapCaller, wrapCreate);
  const cpu = process.cpuUsage(cpu0);
  const serverSide = (await serverConnections()) - base2;
  clearInterval(probe);
  const [counts] = await admin.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n, COUNT(trace_parent) AS traced FROM \`${h.tablePrefix}events\``,
  );
  const committed = Number(counts[0]!.n);
  const withContext = Number(counts[0]!.traced);
  for (let i = 0; i < 600 && publishLat.length < committed; i++) await new Promise((r) => setTimeout(r, 100));
  console.error('harpoon', run, { maxConns, committed, withContext, published: publishLat.length });
  await harpoon.close();
  await consumer.close();
  await bus.deleteQueue(queue);
  await Promise.all([bus.close(), h.store.close()]);
  const lost = committed - publishLat.length;
  // This process's CPU (all its threads) per event created, over the callers' phase: steadier than
  // events/s on a shared machine (the relay and the consumer run in this process too).
  const cpuUsPerEvent = (cpu.user + cpu.system) / Math.max(1, committed);
  return { exchange, run, maxConns, committed, lost, withContext, publishLat, serverSide, cpuUsPerEvent };
}

/**
 * What a Harpoon run has registered:
 * - `untraced`: nothing (`harpoon_eps`);
 * - `traced`: the SDK, and each caller's loop in a span of its own, so every create carries a trace
 *   context that ctlplane stores and relays (`harpoon_eps_traced`);
 * - `span_per_create`: the same, and each create in a span of its own besides, as an application
 *   that traces every call would (`harpoon_eps_span_per_create`: adds the application's spans);
 * - `sdk_only`: the SDK, no caller span: no create carries a context;
 * - `context_only`: the AsyncLocalStorage context manager alone, no tracer provider.
 */
type Mode = 'untraced' | 'traced' | 'span_per_create' | 'sdk_only' | 'context_only';

async function harpoonRun(mode: Mode) {
  if (mode === 'untraced') return { ...(await throughHarpoon()), spans: 0 };
  const sdk = registerTracing({ contextOnly: mode === 'context_only' });
  const inCaller = mode === 'traced' || mode === 'span_per_create';
  const result = await throughHarpoon(
    DURATION_MS,
    inCaller ? sdk.inSpan : asIs,
    mode === 'span_per_create' ? sdk.inSpan : asIs,
  );
  const spans = await sdk.stop();
  if (inCaller && result.withContext !== result.committed) {
    throw new Error(`${mode}: ${result.withContext} of ${result.committed} events carry a trace context`);
  }
  return { ...result, spans };
}

type RunResult = Awaited<ReturnType<typeof harpoonRun>>;

/** Run order: mirrored, so each mode's two runs sit at the same mean position (a drift cancels). */
const ORDER: readonly Mode[] = ['untraced', 'traced', 'span_per_create', 'sdk_only', 'context_only'];

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
  // (discarded), then every mode twice in mirrored order; each figure the mean of its two runs.
  console.error('harpoon warm-up', (await throughHarpoon(WARMUP_MS)).run);
  const byMode = new Map<Mode, RunResult[]>();
  for (const mode of [...ORDER, ...[...ORDER].reverse()]) {
    const result = await harpoonRun(mode);
    byMode.set(mode, [...(byMode.get(mode) ?? []), result]);
    console.error(`harpoon ${mode}`, Math.round(result.run.eps), 'events/s', { spans: result.spans });
  }
  const both = (mode: Mode) => byMode.get(mode)!;
  const meanOf = (mode: Mode, f: (r: RunResult) => number) =>
    both(mode).reduce((sum, r) => sum + f(r), 0) / both(mode).length;
  const [u1, u2] = both('untraced') as [RunResult, RunResult];
  const { exchange, publishLat, serverSide } = u1;
  const hr = { eps: meanOf('untraced', (r) => r.run.eps), p99: meanOf('untraced', (r) => r.run.p99) };
  const eps = (mode: Mode) => Math.round(meanOf(mode, (r) => r.run.eps));
  const ratio = (mode: Mode) => Number((meanOf(mode, (r) => r.run.eps) / hr.eps).toFixed(2));
  const spans = meanOf('traced', (r) => r.spans) * 2;
  m.harpoon_eps = Math.round(hr.eps);
  m.harpoon_server_side_connections = serverSide;
  m.harpoon_db_connections = Math.max(u1.maxConns, u2.maxConns);
  m.harpoon_pool_size = HARPOON_POOL;
  m.create_to_publish_p50_ms = Math.round(percentile(publishLat, 50));
  m.create_to_publish_p99_ms = Math.round(percentile(publishLat, 99));
  m.harpoon_vs_direct_ratio = Number((hr.eps / d.eps).toFixed(2));
  m.lost = u1.lost + u2.lost;
  m.harpoon_eps_traced = eps('traced');
  m.harpoon_traced_vs_untraced_ratio = ratio('traced');
  m.harpoon_traced_p99_ms = Math.round(meanOf('traced', (r) => r.run.p99));
  m.harpoon_traced_spans = spans;
  m.harpoon_traced_lost = both('traced').reduce((sum, r) => sum + r.lost, 0);
  m.harpoon_eps_span_per_create = eps('span_per_create');
  m.harpoon_span_per_create_vs_untraced_ratio = ratio('span_per_create');
  m.harpoon_eps_sdk_only = eps('sdk_only');
  m.harpoon_sdk_only_vs_untraced_ratio = ratio('sdk_only');
  m.harpoon_eps_context_only = eps('context_only');
  m.harpoon_context_only_vs_untraced_ratio = ratio('context_only');
  const cpuPerEvent = (mode: Mode) => meanOf(mode, (r) => r.cpuUsPerEvent);
  m.harpoon_untraced_cpu_us_per_event = Math.round(cpuPerEvent('untraced'));
  m.harpoon_traced_cpu_us_per_event = Math.round(cpuPerEvent('traced'));
  m.harpoon_traced_vs_untraced_cpu_ratio = Number(
    (cpuPerEvent('traced') / cpuPerEvent('untraced')).toFixed(2),
  );
  const runs = [...ORDER, ...[...ORDER].reverse()].map((mode, i) => {
    const r = both(mode)[i < ORDER.length ? 0 : 1]!;
    return `${mode} ${Math.round(r.run.eps).toLocaleString('en-US')}`;
  });
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
    `Harpoon vs direct: **${m.harpoon_vs_direct_ratio}×** (target ≥ 5×). Harpoon's connections peaked at ${m.harpoon_db_connections} of its pool of ${HARPOON_POOL}. Create → confirmed publish → consumed: p50 ${m.create_to_publish_p50_ms} ms, p99 ${m.create_to_publish_p99_ms} ms. Committed but never published: ${m.lost}.`,
    '',
    `Tracing (OpenTelemetry SDK: BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, AsyncLocalStorage context manager). Each mode ran twice, in mirrored order after a ${WARMUP_MS / 1000} s warm-up, so that a drift over the run weighs on every mode alike; each figure is the mean of its two runs (in order: ${runs.join(', ')} events/s).`,
    '',
    table(
      ['mode', 'events/s', '× untraced', 'CPU µs per event (this process)', '× untraced CPU'],
      (
        [
          ['untraced', 'untraced: nothing registered'],
          [
            'traced',
            '**traced**: SDK; each caller in a span of its own, so every create carries a trace context that ctlplane stores and relays',
          ],
          [
            'span_per_create',
            'span per create: as traced, and each create in an application span of its own',
          ],
          ['sdk_only', 'SDK only: no caller span, so no create carries a context'],
          ['context_only', 'context manager only: no tracer provider'],
        ] as const
      ).map(([mode, label]) => [
        label,
        eps(mode),
        ratio(mode),
        Math.round(cpuPerEvent(mode)),
        Number((cpuPerEvent(mode) / cpuPerEvent('untraced')).toFixed(2)),
      ]),
    ),
    '',
    `Traced: **${m.harpoon_traced_vs_untraced_ratio}×** untraced (target ≥ 0.9×), ${m.harpoon_traced_vs_untraced_cpu_ratio}× its CPU per event, caller p99 ${m.harpoon_traced_p99_ms} ms, ${spans.toLocaleString('en-US')} spans ended in its two runs, ${m.harpoon_traced_lost} committed but never published. The span-per-create mode adds the application's own span per call (its creation, context switch, batching and export), outside ctlplane; the context-manager mode is the runtime's async context tracking alone (see docs/operations.md, Tracing).`,
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
