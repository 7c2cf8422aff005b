/**
 * Harpoon's HTTP server on MariaDB: a database failure reaches callers as a typed code and a
 * generic message, never MariaDB's text naming accounts, hosts, schemas and tables (issue 13,
 * finding 11); and a long-poll is woken by another process's commit through the shared head poll.
 */
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Harpoon, HarpoonClient, HarpoonHttpServer } from '@ctlplane/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { httpRequest } from './fixtures/security-http.js';
import { RecordingLogger } from './fixtures/security-kit.js';

const TOKEN = 'mysql-http-token-0123456789';

/** A served Harpoon on `url` and `tablePrefix`; its store does not retry, so failures come at once. */
async function serve(url: string, tablePrefix: string, log: RecordingLogger) {
  const store = new EventStore({
    driver: new MysqlEventStoreDriver({ url, tablePrefix, poolSize: 2 }),
    types: testTypes,
    retries: 0,
  });
  const harpoon = new Harpoon<TestSchemas>({ store });
  const server = new HarpoonHttpServer({ harpoon, tokens: [{ service: 't', token: TOKEN }], logger: log });
  await server.listen();
  return {
    store,
    server,
    close: async () => {
      await server.close();
      await harpoon.close();
      await store.close();
    },
  };
}

describeWith('mysql', 'Harpoon HTTP on MariaDB', () => {
  const tablePrefix = uniquePrefix('hhttp');
  const admin = testPool({ connectionLimit: 1 });
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await migrate({ url: mysqlUrl(), tablePrefix });
  });
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await dropPrefixed(admin, tablePrefix);
    await admin.end();
  });

  it.each([
    ['a missing table', () => mysqlUrl(), uniquePrefix('nomig'), (p: string) => [p, `${p}events`]],
    [
      'an unknown account',
      () => {
        const u = new URL(mysqlUrl());
        u.username = 'ctl_no_such_user';
        u.password = 'not-the-password';
        return u.toString();
      },
      tablePrefix,
      () => ['ctl_no_such_user', 'not-the-password', '@'],
    ],
  ])(
    'regression(db-text-leak): %s is a 503 UNAVAILABLE with a generic message; the details are logged',
    async (_n, url, prefix, secrets) => {
      const log = new RecordingLogger('harpoon');
      const s = await serve(url(), prefix, log);
      closers.push(s.close);
      const r = await httpRequest(s.server.url, {
        method: 'GET',
        path: '/v1/events/1',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(r.status).toBe(503);
      const database = new URL(mysqlUrl()).pathname.slice(1);
      // main 8d054bf: "get: Table 'test.nomig_…_events' doesn't exist", "Access denied for user '…'@'…'".
      for (const s of [...secrets(prefix), `${database}.`, 'Access denied', "doesn't exist"])
        expect(r.body, s).not.toContain(s);
      const body = JSON.parse(r.body) as { error: { code: string; message: string; transient?: boolean } };
      expect(body.error.code).toBe('UNAVAILABLE');
      expect(typeof body.error.transient).toBe('boolean');
      expect(log.text()).toMatch(/request failed.*(doesn't exist|Access denied)/);
      expect(log.text()).not.toContain('not-the-password');
    },
  );

  it('a long-poll is woken by another process’s commit within about feedPollMs', async () => {
    const log = new RecordingLogger('harpoon');
    const s = await serve(mysqlUrl(), tablePrefix, log);
    closers.push(s.close);
    // Another process: its own store on the same tables, whose commits this server is not told of.
    const other = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 1 }),
      types: testTypes,
    });
    closers.push(() => other.close());
    const client = new HarpoonClient<TestSchemas>({ url: s.server.url, token: TOKEN });
    const head = await client.head();
    const waiting = client.readFeed(head, { waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const [e] = await other.append([create(1)]);
    const page = await waiting;
    expect(page.events.map((x) => x.id)).toEqual([e!.id]);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
