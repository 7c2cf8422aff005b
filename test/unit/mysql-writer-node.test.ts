/**
 * How the MySQL backends choose the writer among the nodes of a Galera cluster (`urls`), and the
 * validation of the node list. The failover itself runs on a real cluster: test/galera/.
 */
import { type AddressInfo, createServer } from 'node:net';
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { UnavailableError, ValidationError } from '@ctlplane/core';
import type { Pool } from 'mysql2/promise';
import { expect, it } from 'vitest';
import type { FailoverPool } from '../../packages/adapters/src/mysql/failover-pool.js';
import {
  catchUp,
  type NodeStatus,
  pickWriter,
  probeNode,
  readiness,
} from '../../packages/adapters/src/mysql/writer-node.js';

const node = (index: number, ready: boolean, uptimeS: number): NodeStatus => ({ index, ready, uptimeS });
const values = (o: Record<string, string>) => new Map(Object.entries(o));

it('picks the ready node up the longest, the first listed on a tie, none when none is ready', () => {
  expect(pickWriter([node(0, true, 10), node(1, true, 500), node(2, true, 30)])).toBe(1);
  // A node that crashed and came back (uptime 5) does not take the role back.
  expect(pickWriter([node(0, true, 5), node(1, true, 500), node(2, true, 499)])).toBe(1);
  expect(pickWriter([node(0, false, 900), node(1, true, 20), node(2, true, 20)])).toBe(1);
  expect(pickWriter([node(0, false, 900), node(1, false, 20)])).toBe(-1);
});

it('counts a Galera node as ready only when Synced in the primary component; a plain server always', () => {
  expect(readiness(values({ wsrep_on: 'OFF' }))).toEqual({ ready: true });
  expect(readiness(values({}))).toEqual({ ready: true });
  const synced = {
    wsrep_on: 'ON',
    wsrep_cluster_status: 'Primary',
    wsrep_local_state_comment: 'Synced',
    wsrep_ready: 'ON',
  };
  expect(readiness(values(synced)).ready).toBe(true);
  for (const bad of [
    { wsrep_local_state_comment: 'Donor/Desynced' },
    { wsrep_local_state_comment: 'Joining' },
    { wsrep_cluster_status: 'non-Primary' },
    { wsrep_ready: 'OFF' },
  ]) {
    const r = readiness(values({ ...synced, ...bad }));
    expect(r.ready).toBe(false);
    expect(r.reason).toMatch(/wsrep_cluster_status=/);
  }
});

it('a probe of a node that does not answer reports why, within its bound', async () => {
  const started = Date.now();
  const s = await probeNode('mysql://root:secret@127.0.0.1:1/none', 2, 2_000);
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(s).toMatchObject({ index: 2, ready: false, uptimeS: 0 });
  expect(s.reason).toBeTruthy();
  expect(s.reason).not.toContain('secret');
});

it('a catch-up of a node that refuses, or accepts and never answers, fails within its bound; an abort ends it at once', async () => {
  let started = Date.now();
  await expect(catchUp('mysql://root@127.0.0.1:1/none', 2_000)).rejects.toThrow();
  expect(Date.now() - started).toBeLessThan(3_000);
  // A listener that accepts connections and never sends the server's greeting.
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `mysql://root@127.0.0.1:${(silent.address() as AddressInfo).port}/none`;
  try {
    started = Date.now();
    await expect(catchUp(url, 500)).rejects.toThrow(/no answer within 500 ms|ETIMEDOUT/);
    expect(Date.now() - started).toBeLessThan(2_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    started = Date.now();
    await expect(catchUp(url, 30_000, controller.signal)).rejects.toThrow(/cancelled/);
    expect(Date.now() - started).toBeLessThan(2_000);
  } finally {
    silent.close();
  }
});

it('with no node reachable, a call fails with a transient UnavailableError naming every node, passwords masked', async () => {
  const driver = new MysqlEventStoreDriver({
    urls: ['mysql://root:pw1@127.0.0.1:1/none', 'mysql://root:pw2@127.0.0.1:2/none'],
    connectTimeoutMs: 1_000,
  });
  const err = await (driver.pool as unknown as Pool).query('SELECT 1').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnavailableError);
  expect((err as UnavailableError).transient).toBe(true);
  expect((err as Error).message).toMatch(/127\.0\.0\.1:1\/none.*127\.0\.0\.1:2\/none/);
  expect((err as Error).message).not.toMatch(/pw1|pw2/);
  expect((driver.pool as unknown as FailoverPool).writer).toBeNull();
  await driver.close();
});

it.each([
  ['url', { url: 'mysql://a/test,postgres://b/test' }],
  ['url', { url: 'mysql://a/test', urls: ['mysql://b/test'] }],
  ['urls', { urls: [] }],
  ['urls', { urls: ['http://a/test', 'mysql://b/test'] }],
  ['urls', { urls: Array.from({ length: 10 }, (_, i) => `mysql://h${i}/test`) }],
])('refuses a bad node list, naming %s: %j', (field, options) => {
  let err: unknown;
  try {
    new MysqlEventStoreDriver({ ...options });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).issues.map((i) => String(i.path).split('.')[0])).toContain(field);
});
