/**
 * `--role router`: an EventRouter per region behind WebSocket endpoints. By default routers read
 * and acknowledge through Harpoon's HTTP API (no database connection here) and are pushed their
 * region's changes over the bus; `--router-source mysql` polls the events table directly instead,
 * like the 2013 Event Router. Either way the agents' heartbeat metrics go to the schedulers on the
 * bus. `--router-replica` runs another replica on its own ports and queues.
 */
import { WsTransportServer } from '@ctlplane/adapters/ws';
import { type Logger, type RouterStore, StorePollInput } from '@ctlplane/core';
import { openBus, openEvents } from '../backend.js';
import type { CloudOptions } from '../cli.js';
import { HeartbeatPublisher } from '../metrics-bridge.js';
import { routerQueues } from '../queues.js';
import { busInput, startRouters } from '../routers.js';
import { agentKeyring, harpoonFor, routerPort } from './endpoints.js';
import { RoleKit, type RunningRole } from './role.js';

export async function startRouterRole(
  o: CloudOptions,
  log: Logger,
  say: (l: string) => void,
): Promise<RunningRole> {
  const kit = new RoleKit();
  const direct = o.routerSource === 'mysql';
  const queues = direct ? [] : routerQueues(o.tablePrefix, o.regions, o.routerReplica);
  const bus = await openBus(o, log, queues, `droplet-cloud:router-${o.routerReplica}`);
  kit.shutdown.add('bus', () => bus.close());
  let store: RouterStore;
  let connections = () => 0;
  if (direct) {
    const events = await openEvents(o, log, 2);
    kit.shutdown.add('store', () => events.close());
    store = events.store;
    connections = () => events.connections.count();
  } else store = await harpoonFor(o, 'router');
  const heartbeats = new HeartbeatPublisher(bus);
  kit.shutdown.add('heartbeats', () => heartbeats.stop());
  const routers = await startRouters({
    ...{ regions: o.regions, store, keyring: agentKeyring(o), logger: log },
    input: direct
      ? () => new StorePollInput({ store, pollMs: 250, limit: 1_000 })
      : busInput(bus, o.tablePrefix, o.routerReplica),
    onMetrics: (region) => heartbeats.sink(region),
    listenOn: (_region, i) => new WsTransportServer({ host: o.host, port: routerPort(o, i) }),
  });
  kit.shutdown.add('routers', () => Promise.all(routers.map((r) => r.close())));
  for (const r of routers) kit.metrics.observeRouter(r);
  kit.metrics.observeBus(bus);
  kit.metrics.trackConnections('router', connections);
  const metricsUrl = await kit.serveMetrics(o);
  say(
    `router: ready, ${o.regions.map((r, i) => `${r} on port ${routerPort(o, i)}`).join(', ')}${metricsUrl ? ` (metrics ${metricsUrl})` : ''}`,
  );
  return {
    summary: async () => {
      const parts = routers.map((r) => {
        const s = r.stats();
        return `${s.region} ${s.agentsConnected} agents, ${s.delivered} delivered, ${s.acks.applied} acks, ${s.dbQueries.total} ${direct ? 'database' : 'harpoon'} reads`;
      });
      return `router: ${parts.join('; ')} | ${connections()} database connections`;
    },
    close: () => kit.close(),
  };
}
