/**
 * The router process of the router benchmark: one EventRouter on MariaDB (its own MySQL user, a
 * pool of 2), WebSocket on 127.0.0.1, polling input; switched to the RabbitMQ input on command.
 *
 * Args: <mysqlUrl> <tablePrefix> <region> <pollMs>
 */
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { WsTransportServer } from '@ctlplane/adapters/ws';
import { BusInput, EventRouter, EventStore, StorePollInput } from '@ctlplane/core';
import { serveIpc } from './router-ipc.js';
import { benchKeyring, benchTypes } from './router-shared.js';
import { LoopDelay, StageTimes } from './stage-clock.js';

const [url, tablePrefix, region, pollMs] = process.argv.slice(2) as [string, string, string, string];
const store = new EventStore({
  driver: new MysqlEventStoreDriver({ url, tablePrefix, poolSize: 2 }),
  types: benchTypes,
});
const router = new EventRouter({
  store,
  region,
  auth: benchKeyring(),
  id: 'bench-router',
  input: new StorePollInput({ store, pollMs: Number(pollMs), limit: 10_000 }),
  heartbeatMs: 10_000,
  ackFlushMs: 200,
  ackBatchSize: 5_000,
  maxDbConcurrency: 2,
  maxAgents: 20_000,
});
const server = new WsTransportServer({ host: '127.0.0.1', port: 0, backlog: 4_096 });
await router.listen(server);
let bus: AmqpBus | null = null;
const loop = new LoopDelay();
/** When each event's first (placed) change came off the bus, before BusInput parsed it. */
const fromBus = new StageTimes();

function memory() {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

serveIpc({
  url: () => server.url,
  stats: () => router.stats(),
  loop: () => loop.take(),
  stages: () => fromBus.take(),
  memory,
  cpu: () => process.cpuUsage(),
  switchToBus: async (arg) => {
    const { amqpUrl, exchange, queue } = arg as { amqpUrl: string; exchange: string; queue: string };
    bus = new AmqpBus({
      urls: amqpUrl,
      topology: { exchange },
      prefetch: 1_000,
      connectionName: 'ctlplane-bench-router',
    });
    await bus.ready();
    // Stamp each delivery as it comes off the bus, then hand it to BusInput as it was.
    const subscribe = bus.subscribe.bind(bus);
    bus.subscribe = (options, handler) =>
      subscribe(options, (delivery) => {
        const body = delivery.message.body as { id?: number; status?: string } | null;
        if (typeof body?.id === 'number' && body.status === 'placed') fromBus.mark(body.id);
        return handler(delivery);
      });
    await router.useInput(new BusInput({ bus, queue, prefetch: 2_000 }));
    return router.inputKind;
  },
  exit: async () => {
    await router.close();
    await bus?.close();
    await store.close();
    setImmediate(() => process.exit(0));
  },
});
process.send!({ id: 0, result: 'ready' });
