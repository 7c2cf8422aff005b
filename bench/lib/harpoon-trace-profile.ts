/**
 * A profiling harness for the traced Harpoon run (issue 17): the Harpoon phase of bench/harpoon.ts
 * alone, in one of five set-ups, printing one JSON line and writing nothing under bench/results.
 * Run one process per set-up and alternate them (the A/B script is scripts in docs/operations.md):
 *
 *   node --import tsx bench/lib/harpoon-trace-profile.ts <mode> [callers] [ms]
 *
 * `untraced`: no SDK. `context`: the AsyncLocalStorage context manager only. `provider`: the SDK
 * of bench/lib/tracing-sdk.ts, no caller spans (ctlplane's own spans still start). `traced`: the
 * SDK and each caller's loop in a span of its own (every create carries a context), as the bench's
 * traced mode. `span_per_create`: the SDK and a caller span around each create besides. With
 * `PROFILE=<file>`, the callers' phase alone is CPU-profiled into that file (a `.cpuprofile`, for
 * Chrome's DevTools).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Harpoon, wireEventSchema } from '@ctlplane/core';
import { createPool } from 'mysql2/promise';
import { create, type TestSchemas, testTypes } from '../../test/contract/event-store.fixtures.js';
import { benchHarpoonOptions } from './harpoon-options.js';
import { dropTables } from './tables.js';
import { registerTracing } from './tracing-sdk.js';

const mysqlUrl = process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const amqpUrl = process.env.CTLPLANE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const [mode = 'untraced', callersArg = '1000', msArg = '3000'] = process.argv.slice(2);
const CALLERS = Number(callersArg);
const DURATION_MS = Number(msArg);

const tablePrefix = `hprof_${randomBytes(3).toString('hex')}_`;
await migrate({ url: mysqlUrl, tablePrefix });
const driver = new MysqlEventStoreDriver({ url: mysqlUrl, tablePrefix, poolSize: 4 });
const store = new EventStore({ driver, types: testTypes });
const exchange = `ctl-prof-${randomBytes(3).toString('hex')}`;
const queue = `prof-audit-${randomBytes(3).toString('hex')}`;
const bus = new AmqpBus({
  urls: amqpUrl,
  topology: { exchange, queues: [{ name: queue, bindings: ['evt.#'] }] },
});
await bus.ready();
const consumer = new AmqpBus({ urls: amqpUrl, topology: { exchange } });
let consumed = 0;
await consumer.subscribe({ queue, prefetch: 1_000 }, (dl) => {
  wireEventSchema.parse(dl.message.body);
  consumed++;
});

const tracing = mode === 'untraced' ? null : registerTracing({ contextOnly: mode === 'context' });
const harpoon = new Harpoon<TestSchemas>(benchHarpoonOptions(store, bus, driver, tablePrefix)).start();
const createOne = async (i: number) => {
  await harpoon.create(create(i));
};
const inSpan = mode === 'span_per_create' ? tracing!.inSpan : null;
const one = inSpan ? (i: number) => inSpan(() => createOne(i)) : createOne;
const wrapCaller =
  mode === 'traced' || mode === 'span_per_create' ? tracing!.inSpan : (fn: () => Promise<void>) => fn();
const session = process.env.PROFILE ? new Session() : null;
session?.connect();
await session?.post('Profiler.enable');
await session?.post('Profiler.start');
const cpu0 = process.cpuUsage();
const end = Date.now() + DURATION_MS;
let done = 0;
await Promise.all(
  Array.from({ length: CALLERS }, (_, c) =>
    wrapCaller(async () => {
      for (let i = 0; Date.now() < end; i++) {
        await one(c * 1_000_000 + i);
        done++;
      }
    }),
  ),
);
const eps = done / (DURATION_MS / 1000);
// CPU time of this process per event: steadier than events/s on a shared machine.
const cpu = process.cpuUsage(cpu0);
const cpuUsPerEvent = (cpu.user + cpu.system) / done;
if (session) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.env.PROFILE!, JSON.stringify(profile));
  session.disconnect();
}
for (let i = 0; i < 300 && consumed < done; i++) await new Promise((r) => setTimeout(r, 100));
await harpoon.close();
const spans = tracing ? await tracing.stop() : 0;
await consumer.close();
await bus.deleteQueue(queue);
await bus.close();
await store.close();
const admin = createPool({ uri: mysqlUrl, connectionLimit: 1 });
await dropTables(admin, tablePrefix);
await admin.end();
console.log(
  JSON.stringify({
    mode,
    callers: CALLERS,
    ms: DURATION_MS,
    eps: Math.round(eps),
    cpuUsPerEvent: Math.round(cpuUsPerEvent),
    consumed,
    spans,
  }),
);
