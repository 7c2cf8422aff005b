/**
 * `--role harpoon`: the only process with access to the events table. Serves Harpoon over HTTP to
 * the other services and relays every committed change to RabbitMQ.
 */
import { Harpoon, HarpoonHttpServer, type Logger } from '@ctlplane/core';
import { openBus, openEvents } from '../backend.js';
import type { CloudOptions } from '../cli.js';
import { harpoonPort, serviceTokens } from './endpoints.js';
import { RoleKit, type RunningRole } from './role.js';

export async function startHarpoonRole(
  o: CloudOptions,
  log: Logger,
  say: (l: string) => void,
): Promise<RunningRole> {
  const kit = new RoleKit();
  const events = await openEvents(o, log);
  kit.shutdown.add('store', () => events.close());
  const bus = await openBus(o, log, [], 'droplet-cloud:harpoon');
  kit.shutdown.add('bus', () => bus.close());
  const harpoon = new Harpoon({
    ...{ store: events.store, bus, cursors: events.cursors, logger: log },
    relay: { name: `droplet-cloud.${o.tablePrefix}` },
    creates: { maxBatch: 500, lingerMs: 2, concurrency: 2 },
  }).start();
  kit.shutdown.add('harpoon', () => harpoon.close());
  const server = new HarpoonHttpServer({
    harpoon,
    tokens: serviceTokens(o),
    host: o.host,
    port: harpoonPort(o),
    logger: log,
  });
  await server.listen();
  kit.shutdown.add('http', () => server.close());
  kit.metrics.observeStore(events.store);
  kit.metrics.observeHarpoon(harpoon);
  kit.metrics.observeBus(bus);
  kit.metrics.trackConnections('harpoon', () => events.connections.count());
  const metricsUrl = await kit.serveMetrics(o);
  say(`harpoon: ready at ${server.url}${metricsUrl ? ` (metrics ${metricsUrl})` : ''}`);
  return {
    summary: async () => {
      const s = harpoon.stats;
      const lag = await harpoon.relayLag();
      return `harpoon: ${s.batches} batches, ${s.sharedReads} shared reads, ${s.published} changes published (lag ${lag}) | ${events.connections.count()} ${events.connections.unit}`;
    },
    close: () => kit.close(),
  };
}
