/**
 * What the capacity benchmark's components share: service URLs, a small admin pool, the time
 * budget, and cleanup of the tables, users and AMQP objects a run created (only those).
 */
import { join } from 'node:path';
import { connect as amqpConnect } from 'amqplib';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { BENCH_PASSWORD } from './router-shared.js';

/** Where the services are and how long the run may take. */
export interface CapacityEnv {
  mysqlUrl: string;
  amqpUrl: string;
  admin: Pool;
  quick: boolean;
  /** Per-run random tag, in every table prefix, user and queue name. */
  tag: string;
  /** The whole run ends before this (epoch ms). */
  deadline: number;
}

/** Path of a module under bench/lib. */
export const lib = (f: string) => join(import.meta.dirname, f);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A component's deadline: `ms` from now, but never past the run's. */
export function componentDeadline(env: CapacityEnv, ms: number): number {
  return Math.min(env.deadline, Date.now() + ms);
}

/** Rows of `sql`. */
export async function rows(pool: Pool, sql: string, args: unknown[] = []): Promise<RowDataPacket[]> {
  return (await pool.query<RowDataPacket[]>(sql, args))[0];
}

/** Connections MariaDB allows, and how many other clients hold right now. */
export async function connectionRoom(pool: Pool): Promise<{ max: number; held: number }> {
  const max = Number((await rows(pool, 'SELECT @@max_connections AS m'))[0]!.m);
  const held = Number((await rows(pool, 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST'))[0]!.n);
  return { max, held };
}

/** Drop every table whose name starts with `prefix` (this run's prefixes only). */
export async function dropPrefixed(pool: Pool, prefix: string): Promise<void> {
  const found = await rows(
    pool,
    'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
    [`${prefix.replaceAll('_', '\\_')}%`],
  );
  for (const r of found) await pool.query(`DROP TABLE IF EXISTS \`${String(r.t)}\``);
}

/** Delete queues and exchanges this run declared (their dead-letter companions included). */
export async function deleteAmqp(url: string, queues: string[], exchanges: string[]): Promise<void> {
  const conn = await amqpConnect(url).catch(() => null);
  if (!conn) return;
  conn.on('error', () => {});
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  for (const q of queues.flatMap((q) => [q, `${q}.dead-letter`])) await ch.deleteQueue(q).catch(() => {});
  for (const e of exchanges.flatMap((e) => [e, `${e}.dead-letter`]))
    await ch.deleteExchange(e).catch(() => {});
  await conn.close().catch(() => {});
}

/** Connection-level failures: a sign the step was disrupted from outside, not overloaded. */
export const DISRUPTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
]);

/** The disruptive codes among `errors`, as `code ×n`. */
export function disruptiveErrors(errors: Record<string, number>): string[] {
  return Object.entries(errors)
    .filter(([k]) => DISRUPTION_CODES.has(k))
    .map(([k, v]) => `${k} ×${v}`);
}

/** MySQL users of this benchmark, so MariaDB's processlist tells its processes apart. */
export const CAP_ROUTER_USER = 'ctl_cap_router';
export const CAP_POLL_USER = 'ctl_cap_poll';

/** (Re)create `user` with the benchmark's password, all rights on this database, and a connection cap (0: none). */
export async function createUser(pool: Pool, user: string, maxConnections: number): Promise<void> {
  const db = String((await rows(pool, 'SELECT DATABASE() AS d'))[0]!.d);
  await pool.query(`DROP USER IF EXISTS '${user}'@'%'`);
  await pool.query(
    `CREATE USER '${user}'@'%' IDENTIFIED BY '${BENCH_PASSWORD}' WITH MAX_USER_CONNECTIONS ${maxConnections}`,
  );
  await pool.query(`GRANT ALL ON \`${db}\`.* TO '${user}'@'%'`);
}
