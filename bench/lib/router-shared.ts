/**
 * What the router benchmark's processes share: event types, the keyring, MySQL users.
 */
import { AgentKeyring, defineEventTypes } from '@ctlplane/core';
import { z } from 'zod';

const schemas = { 'bench.job': z.object({ t: z.number() }) };
/** The benchmark's one event type: a job stamped with the time just before its append. */
export type BenchTypes = typeof schemas;
export const benchTypes = defineEventTypes(schemas);

/** The agents' HMAC key, handed to children through the environment (never argv). */
export function benchKeyring(): AgentKeyring {
  const secret = process.env.CTLPLANE_BENCH_AGENT_SECRET;
  if (!secret) throw new Error('CTLPLANE_BENCH_AGENT_SECRET is not set');
  return new AgentKeyring({ keys: [{ kid: 'bench', secret }] });
}

/** The MySQL users the benchmark creates so that MariaDB's processlist tells the processes apart. */
export const ROUTER_USER = 'ctl_bench_router';
export const POLL_USER = 'ctl_bench_poll';
export const BENCH_PASSWORD = 'bench-only-password';

/** `url` with its user and password replaced. */
export function asUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = BENCH_PASSWORD;
  return u.toString();
}

/** `url` with the credentials of bench user `user` (password {@link BENCH_PASSWORD}). */
export function benchUserUrl(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = BENCH_PASSWORD;
  return u.toString();
}
