/**
 * The Harpoon process of the capacity benchmark: Harpoon on MariaDB (a pool of 4, group commit as
 * in the harpoon benchmark), its outbox relay publishing every change to a RabbitMQ quorum queue,
 * served over HTTP on 127.0.0.1. Counts what would show a disruption from outside (store retries,
 * relay errors, broker disconnects).
 *
 * Args: <mysqlUrl> <tablePrefix> <amqpUrl> <exchange> <queue> <poolSize>; the callers' token in
 * CTLPLANE_BENCH_HARPOON_TOKEN.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { EventStore, Harpoon, HarpoonHttpServer, toWireEvent } from '@ctlplane/core';
import { benchHarpoonOptions } from './harpoon-options.js';
import { serveIpc } from './router-ipc.js';
import { type BenchTypes, benchTypes } from './router-shared.js';

const [url, tablePrefix, amqpUrl, exchange, queue, poolSize] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const token = process.env.CTLPLANE_BENCH_HARPOON_TOKEN;
if (!token) throw new Error('CTLPLANE_BENCH_HARPOON_TOKEN is not set');

// Harpoon's pool: the connections one Harpoon process holds.
const driver = new MysqlEventStoreDriver({ url, tablePrefix, poolSize: Number(poolSize) });
const store = new EventStore({ driver, types: benchTypes });
const bus = new AmqpBus({
  urls: amqpUrl,
  topology: { exchange, queues: [{ name: queue, bindings: ['evt.#'] }] },
  connectionName: 'ctlplane-capacity-harpoon',
});
await bus.ready();
const harpoon = new Harpoon<BenchTypes>(benchHarpoonOptions(store, bus, driver, tablePrefix)).start();
const server = new HarpoonHttpServer<BenchTypes>({
  harpoon,
  tokens: [{ service: 'capacity-callers', token, scopes: ['events:create'] }],
});
await server.listen();

const counters = { storeRetries: 0, relayErrors: 0, busDisconnects: 0, busy: 0, batches: 0, batched: 0 };
const retryCodes: Record<string, number> = {};
store.on('store:retry', (e) => {
  counters.storeRetries++;
  const code = (e.error as { code?: string }).code ?? e.error.name;
  retryCodes[code] = (retryCodes[code] ?? 0) + 1;
});
harpoon.on('relay:error', () => counters.relayErrors++);
harpoon.on('harpoon:busy', () => counters.busy++);
harpoon.on('harpoon:batch', (e) => {
  if (e.kind !== 'create') return;
  counters.batches++;
  counters.batched += e.size;
});
bus.on('bus:disconnected', () => counters.busDisconnects++);

/**
 * The HTTP transport alone, for reference: a node:http server in this process that reads and
 * parses each request like Harpoon's and answers a stored event, with no Harpoon behind it.
 */
async function echo(): Promise<string> {
  const sample = await harpoon.create({ type: 'bench.job', payload: { t: 0 }, region: 'cap' });
  const answer = JSON.stringify({ event: toWireEvent(sample) });
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

serveIpc({
  url: () => server.url,
  echoUrl: echo,
  stats: async () => ({
    ...counters,
    retryCodes: { ...retryCodes },
    pending: harpoon.stats.pending,
    published: harpoon.stats.published,
    relayLag: await harpoon.relayLag().catch(() => -1),
    connections: driver.connections(),
  }),
  exit: async () => {
    await server.close();
    await harpoon.close();
    await bus.close();
    await store.close();
    setImmediate(() => process.exit(0));
  },
});
process.send!({ id: 0, result: 'ready' });
