/**
 * The simulated hypervisors' agents: each connects to its region's router with a token signed for
 * its server, runs droplet events and reports metrics with its heartbeats.
 */
import { Agent, type AgentKeyring, type Logger, type TransportConnector } from '@ctlplane/core';
import type { CloudOptions } from './cli.js';
import type { HypervisorSpec } from './fleet-spec.js';
import { SimulatedHypervisor } from './hypervisor.js';
import { HypervisorLedger } from './ledger.js';
import { type DropletTypes, dropletTypes } from './types.js';

/** A running agent and the hypervisor it drives. */
export interface RunningAgent {
  readonly agent: Agent<DropletTypes>;
  readonly hypervisor: SimulatedHypervisor;
}

/** The hypervisors of this process's shard (`--agent-shard i/n`: every n-th, from the i-th). */
export function shardOf<T>(spec: readonly T[], shard: { index: number; count: number }): T[] {
  return spec.filter((_, i) => i % shard.count === shard.index);
}

/**
 * Start an agent per hypervisor of the shard; resolves once every one is connected. With
 * `--state-dir` the hypervisors keep their droplets in a ledger and every event received is
 * recorded there.
 */
export async function startAgents(
  o: CloudOptions,
  deps: {
    spec: readonly HypervisorSpec[];
    keyring: AgentKeyring;
    connector: TransportConnector;
    routerUrls: (region: string) => string[];
    logger: Logger;
  },
): Promise<RunningAgent[]> {
  const ledger = o.stateDir ? new HypervisorLedger(o.stateDir, o.agentShard.index) : undefined;
  const running = deps.spec.map((spec, i) => {
    const hypervisor = new SimulatedHypervisor(spec, {
      bootMs: o.bootMs,
      failRate: o.failRate,
      seed: o.seed * 7_919 + i,
      ledger,
    });
    const agent = new Agent<DropletTypes>({
      serverId: spec.id,
      token: () => deps.keyring.sign({ serverId: spec.id, region: spec.region }),
      urls: deps.routerUrls(spec.region),
      connector: deps.connector,
      handlers: hypervisor.handlers,
      types: dropletTypes,
      metrics: () => hypervisor.metrics(),
      concurrency: 32,
      backoff: { initialMs: 100, maxMs: 2_000 },
      logger: deps.logger,
    });
    if (ledger) {
      const s = spec.id;
      agent.on('agent:event', ({ event, redelivery }) =>
        ledger.write({ k: 'ev', e: event.id, v: event.version, s, r: redelivery ? 1 : 0, at: Date.now() }),
      );
      agent.on('agent:redelivery', ({ id, version }) =>
        ledger.write({ k: 'dup', e: id, v: version, s, at: Date.now() }),
      );
    }
    return { agent, hypervisor };
  });
  await Promise.all(running.map((r) => r.agent.start()));
  return running;
}
