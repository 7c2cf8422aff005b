/**
 * `--role agents`: every simulated hypervisor's agent, connected to its region's router over
 * WebSocket. Agents never open a database connection.
 */
import { WsConnector } from '@ctlplane/adapters/ws';
import type { Logger } from '@ctlplane/core';
import { shardOf, startAgents } from '../agents.js';
import type { CloudOptions } from '../cli.js';
import { fleetSpec } from '../fleet-spec.js';
import { agentKeyring, routerUrls } from './endpoints.js';
import { RoleKit, type RunningRole } from './role.js';

export async function startAgentsRole(
  o: CloudOptions,
  log: Logger,
  say: (l: string) => void,
): Promise<RunningRole> {
  const kit = new RoleKit();
  const agents = await startAgents(o, {
    ...{
      spec: shardOf(fleetSpec(o), o.agentShard),
      keyring: agentKeyring(o),
      connector: new WsConnector(),
      logger: log,
    },
    routerUrls: (region) => routerUrls(o, region),
  });
  kit.shutdown.add('agents', () => Promise.all(agents.map((a) => a.agent.stop())));
  kit.metrics.trackConnections('agents', () => 0);
  const metricsUrl = await kit.serveMetrics(o);
  say(`agents: ready, ${agents.length} connected${metricsUrl ? ` (metrics ${metricsUrl})` : ''}`);
  return {
    summary: async () => {
      const connected = agents.filter((a) => a.agent.connected).length;
      const droplets = agents.reduce((n, a) => n + a.hypervisor.droplets, 0);
      return `agents: ${connected}/${agents.length} connected, ${droplets} droplets running | 0 database connections`;
    },
    close: () => kit.close(),
  };
}
