/**
 * The simulated hypervisors' agents: each connects to its region's router with a token signed for
 * its server, runs droplet events and reports metrics with its heartbeats.
 */
import { Agent, type AgentKeyring, type Logger, type TransportConnector } from '@ctlplane/core';
import type { CloudOptions } from './cli.js';
import type { HypervisorSpec } from './fleet-spec.js';
import { SimulatedHypervisor } from './hypervisor.js';
import { type DropletTypes, dropletTypes } from './types.js';

/** A running agent and the hypervisor it drives. */
export interface RunningAgent {
  readonly agent: Agent<DropletTypes>;
  readonly hypervisor: SimulatedHypervisor;
}

/** Start an agent per hypervisor; resolves once every one is connected. */
export async function startAgents(
  o: CloudOptions,
  deps: {
    spec: readonly HypervisorSpec[];
    keyring: AgentKeyring;
    connector: TransportConnector;
    routerUrl: (region: string) => string;
    logger: Logger;
  },
): Promise<RunningAgent[]> {
  const running = deps.spec.map((spec, i) => {
    const hypervisor = new SimulatedHypervisor(spec, {
      bootMs: o.bootMs,
      failRate: o.failRate,
      seed: o.seed * 7_919 + i,
    });
    const agent = new Agent<DropletTypes>({
      serverId: spec.id,
      token: () => deps.keyring.sign({ serverId: spec.id, region: spec.region }),
      urls: [deps.routerUrl(spec.region)],
      connector: deps.connector,
      handlers: hypervisor.handlers,
      types: dropletTypes,
      metrics: () => hypervisor.metrics(),
      concurrency: 32,
      backoff: { initialMs: 100, maxMs: 2_000 },
      logger: deps.logger,
    });
    return { agent, hypervisor };
  });
  await Promise.all(running.map((r) => r.agent.start()));
  return running;
}
