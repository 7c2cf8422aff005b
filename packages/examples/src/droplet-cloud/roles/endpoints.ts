/**
 * Where each component of a multi-process deployment listens, and the credentials services use,
 * all derived from the shared options so every process agrees.
 */
import { createHash } from 'node:crypto';
import { AgentKeyring, HarpoonClient, type HarpoonScope, type ServiceToken, sleep } from '@ctlplane/core';
import type { CloudOptions } from '../cli.js';
import type { DropletTypes } from '../types.js';

/** Harpoon's HTTP port. */
export const harpoonPort = (o: CloudOptions): number => o.portBase;
/** The droplet API's port. */
export const apiPort = (o: CloudOptions): number => o.portBase + 1;
/** The WebSocket port of region `i`'s router, replica `replica` (n+10+i+50r). */
export const routerPort = (o: CloudOptions, i: number, replica = o.routerReplica): number =>
  o.portBase + 10 + i + 50 * replica;

/** Harpoon's base URL. */
export const harpoonUrl = (o: CloudOptions): string => `http://${o.host}:${harpoonPort(o)}`;
/** Where a region's agents connect: replica 0 first, then the others (`--router-replicas`). */
export function routerUrls(o: CloudOptions, region: string): string[] {
  const i = o.regions.indexOf(region);
  return Array.from({ length: o.routerReplicas }, (_, r) => `ws://${o.host}:${routerPort(o, i, r)}/agents`);
}

const SCOPES: Record<string, readonly HarpoonScope[]> = {
  api: ['events:create', 'events:read', 'events:transition'],
  scheduler: ['events:claim', 'events:transition', 'events:read'],
  router: ['events:read', 'events:transition'],
};

/** A service's bearer token, derived from the shared secret (each service gets its own). */
export function serviceToken(o: CloudOptions, service: string): string {
  return createHash('sha256').update(`${o.token}:${service}`).digest('hex');
}

/** The services Harpoon admits, each with only the scopes it needs. */
export function serviceTokens(o: CloudOptions): ServiceToken[] {
  return Object.entries(SCOPES).map(([service, scopes]) => ({
    service,
    token: serviceToken(o, service),
    scopes,
  }));
}

/** The agents' token keyring (routers verify, the agents process signs). */
export function agentKeyring(o: CloudOptions): AgentKeyring {
  return new AgentKeyring({ keys: [{ kid: 'demo', secret: o.agentSecret }] });
}

/** A Harpoon client for `service`, once Harpoon answers (waits up to `timeoutMs`). */
export async function harpoonFor(
  o: CloudOptions,
  service: string,
  timeoutMs = 30_000,
): Promise<HarpoonClient<DropletTypes>> {
  const client = new HarpoonClient<DropletTypes>({ url: harpoonUrl(o), token: serviceToken(o, service) });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.query({ limit: 1 });
      return client;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}
