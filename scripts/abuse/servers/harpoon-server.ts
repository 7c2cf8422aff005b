/**
 * The abuse suite's Harpoon process, wired as docs/harpoon.md shows: Harpoon on MariaDB (a pool
 * of 4) with its outbox relay publishing to RabbitMQ, served over HTTP on 127.0.0.1 with the
 * default bounds. Three services: the good client, the router, and a careless client (an
 * authenticated caller that misbehaves). Prints `harpoon: ready <url>` once it listens.
 */
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlCursorStore, MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { consoleLogger, EventStore, Harpoon, HarpoonHttpServer } from '@ctlplane/core';
import { type AbuseSchemas, abuseTypes, ENV, env } from '../types.js';
import { logMemory } from './memory-log.js';

const log = consoleLogger('warn', 'harpoon');
const url = env(ENV.mysql);
const tablePrefix = env(ENV.prefix);
const driver = new MysqlEventStoreDriver({ url, tablePrefix, poolSize: 4 });
const store = new EventStore({ driver, types: abuseTypes, logger: log });
const bus = new AmqpBus({
  urls: env(ENV.amqp),
  topology: { exchange: env(ENV.exchange) },
  connectionName: 'ctlplane-abuse-harpoon',
  logger: log,
});
await bus.ready();
const harpoon = new Harpoon<AbuseSchemas>({
  store,
  bus,
  cursors: new MysqlCursorStore({ pool: driver.pool, tablePrefix }),
  logger: log,
}).start();
const server = new HarpoonHttpServer<AbuseSchemas>({
  harpoon,
  host: '127.0.0.1',
  port: Number(env(ENV.port)),
  tokens: [
    {
      service: 'good',
      token: env(ENV.goodToken),
      scopes: ['events:create', 'events:read', 'events:transition'],
    },
    { service: 'router', token: env(ENV.routerToken), scopes: ['events:read', 'events:transition'] },
    {
      service: 'careless',
      token: env(ENV.carelessToken),
      scopes: ['events:create', 'events:read', 'events:transition'],
    },
  ],
  logger: log,
});
await server.listen();

async function shutdown(): Promise<void> {
  await server.close();
  await harpoon.close();
  await bus.close();
  await store.close();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
logMemory('harpoon');
process.stdout.write(`harpoon: ready ${server.url}\n`);
