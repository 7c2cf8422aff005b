import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlCursorStore, MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Harpoon, type HarpoonOptions, wireEventSchema } from '@ctlplane/core';
import { type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { amqpUrl, mysqlUrl } from './services.js';

/** Harpoon on MariaDB and RabbitMQ, as a deployment runs it. */
export async function harpoonStack(
  tablePrefix: string,
  exchange: string,
  options: Partial<HarpoonOptions<TestSchemas>> = {},
) {
  await migrate({ url: mysqlUrl(), tablePrefix });
  const driver = new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 4 });
  const store = new EventStore({ driver, types: testTypes });
  const cursors = new MysqlCursorStore({ pool: driver.pool, tablePrefix });
  const bus = new AmqpBus({ urls: amqpUrl(), topology: { exchange } });
  await bus.ready();
  const harpoon = new Harpoon<TestSchemas>({ store, bus, cursors, ...options });
  return {
    driver,
    store,
    bus,
    harpoon,
    close: async () => {
      await harpoon.close();
      await bus.close();
      await store.close();
    },
  };
}

/** A consumer that records every published event id (and how often each arrived). */
export async function recordPublished(exchange: string, queue = `audit-${randomBytes(3).toString('hex')}`) {
  const bus = new AmqpBus({
    urls: amqpUrl(),
    topology: { exchange, queues: [{ name: queue, bindings: ['evt.#'] }] },
  });
  const seen = new Map<number, number>();
  await bus.subscribe({ queue, prefetch: 500 }, (d) => {
    const e = wireEventSchema.parse(d.message.body);
    seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
  });
  return {
    seen,
    duplicates: () => [...seen.values()].reduce((a, n) => a + n - 1, 0),
    close: async () => {
      await bus.deleteQueue(queue).catch(() => {});
      await bus.close();
    },
  };
}
