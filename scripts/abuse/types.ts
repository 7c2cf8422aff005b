/**
 * What the abuse suite's processes share: the event types its Harpoon accepts, the router's
 * region, the servers of the good and careless agents, and the environment each server reads.
 */
import { defineEventTypes } from '@ctlplane/core';
import { z } from 'zod';

/** Payload schemas: a small job (the good client's) and a blob (large events, up to the store's limit). */
export const abuseSchemas = {
  'abuse.job': z.object({ n: z.number().int() }),
  'abuse.blob': z.object({ data: z.string() }),
};
/** The registry Harpoon's store is given. */
export const abuseTypes = defineEventTypes(abuseSchemas);
/** The map the clients are typed with. */
export type AbuseSchemas = typeof abuseSchemas;

/** The router's region; the good client's events are placed there, on {@link GOOD_SERVER}. */
export const REGION = 'abuse';
/** The good agent's server. */
export const GOOD_SERVER = 'good-hv';
/** The careless (authenticated, misbehaving) agent's server. */
export const CARELESS_SERVER = 'careless-hv';
/** Region whose changes the relay-stall probe listens to (no router in it). */
export const PROBE_REGION = 'abuse-probe';

/** The environment variables the server processes read. */
export const ENV = {
  mysql: 'ABUSE_MYSQL_URL',
  amqp: 'ABUSE_AMQP_URL',
  prefix: 'ABUSE_TABLE_PREFIX',
  exchange: 'ABUSE_EXCHANGE',
  port: 'ABUSE_PORT',
  harpoonUrl: 'ABUSE_HARPOON_URL',
  goodToken: 'ABUSE_GOOD_TOKEN',
  routerToken: 'ABUSE_ROUTER_TOKEN',
  carelessToken: 'ABUSE_CARELESS_TOKEN',
  agentSecret: 'ABUSE_AGENT_SECRET',
  routerUrl: 'ABUSE_ROUTER_URL',
} as const;

/** Read a required variable. */
export function env(name: (typeof ENV)[keyof typeof ENV]): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (the abuse suite's harness sets it)`);
  return v;
}
