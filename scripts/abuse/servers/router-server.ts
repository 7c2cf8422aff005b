/**
 * The abuse suite's router process, wired as docs/event-router.md shows for a deployment behind
 * Harpoon: an EventRouter reading and acknowledging through Harpoon's HTTP API (no database
 * connection), pushed its region's changes over RabbitMQ by Harpoon's relay, agents on a
 * WebSocket port of 127.0.0.1, default bounds. Prints `router: ready <url>` once it listens.
 */
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { WsTransportServer } from '@ctlplane/adapters/ws';
import { AgentKeyring, BusInput, consoleLogger, EventRouter, HarpoonClient } from '@ctlplane/core';
import { type AbuseSchemas, ENV, env, REGION } from '../types.js';
import { logMemory } from './memory-log.js';

const log = consoleLogger('warn', 'router');
const bus = new AmqpBus({
  urls: env(ENV.amqp),
  topology: { exchange: env(ENV.exchange) },
  connectionName: 'ctlplane-abuse-router',
  logger: log,
});
await bus.ready();
const store = new HarpoonClient<AbuseSchemas>({ url: env(ENV.harpoonUrl), token: env(ENV.routerToken) });
const router = new EventRouter({
  store,
  region: REGION,
  auth: new AgentKeyring({ keys: [{ kid: 'abuse', secret: env(ENV.agentSecret) }] }),
  input: new BusInput({ bus }),
  logger: log,
});
const server = new WsTransportServer({ host: '127.0.0.1', port: Number(env(ENV.port)) });
await router.listen(server);

async function shutdown(): Promise<void> {
  await router.close();
  await bus.close();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
logMemory('router');
process.stdout.write(`router: ready ${server.url}\n`);
