/**
 * `--role router`: an EventRouter per region behind WebSocket endpoints. Routers read and
 * acknowledge through Harpoon's HTTP API (no database connection here), are pushed their region's
 * changes over the bus, and forward the agents' heartbeat metrics to the schedulers on the bus.
 */
import { WsTransportServer } from '@ctlplane/adapters/ws';
import type { Logger } from '@ctlplane/core';
import { openBus } from '../backend.js';
import type { CloudOptions } from '../cli.js';
import { HeartbeatPublisher } from '../metrics-bridge.js';
import { routerQueues } from '../queues.js';
import { startRouters } from '../routers.js';
import { agentKeyring, harpoonFor, routerPort } from './endpoints.js';
import { RoleKit, type RunningRole } from './role.js';

export async function startRouterRole(
  o: CloudOptions,
  log: Logger,
  say: (l: string) => void,
): Promise<RunningRole> {
  const kit = new RoleKit();
  const harpoon = await harpoonFor(o, 'router');
  const bus = await openBus(o, log, routerQueues(o.tablePrefix, o.regions), 'droplet-cloud:router');
  kit.shutdown.add('bus', () => bus.close());
  const heartbeats = new HeartbeatPublisher(bus);
  kit.shutdown.add('heartbeats', () => heartbeats.stop());
  const routers = await startRouters({
    ...{
      regions: o.regions,
      store: harpoon,
      bus,
      keyring: agentKeyring(o),
      prefix: o.tablePrefix,
      logger: log,
    },
    onMetrics: (region) => heartbeats.sink(region),
    listenOn: (_region, i) => new WsTransportServer({ host: o.host, port: routerPort(o, i) }),
  });
  kit.shutdown.add('routers', () => Promise.all(routers.map((r) => r.close())));
  for (const r of routers) kit.metrics.observeRouter(r);
  kit.metrics.observeBus(bus);
  kit.metrics.trackConnections('router', () => 0);
  const metricsUrl = await kit.serveMetrics(o);
  say(
    `router: ready, ${o.regions.map((r, i) => `${r} on port ${routerPort(o, i)}`).join(', ')}${metricsUrl ? ` (metrics ${metricsUrl})` : ''}`,
  );
  return {
    summary: async () => {
      const parts = routers.map((r) => {
        const s = r.stats();
        return `${s.region} ${s.agentsConnected} agents, ${s.delivered} delivered, ${s.acks.applied} acks, ${s.dbQueries.total} harpoon reads`;
      });
      return `router: ${parts.join('; ')} | 0 database connections`;
    },
    close: () => kit.close(),
  };
}
