/**
 * The MySQL mistakes a newcomer makes first, each with the typed error it now gets: a refused
 * password is an `UnauthorizedError` (as AMQP's refused login is), raised at once and never
 * retried; a database that was never migrated names the fix (`ctlplane migrate`) instead of only
 * "Table … doesn't exist". Over Harpoon's HTTP API the refused password is Harpoon's failure, not
 * the caller's: 503, never a 401 (the caller's token is good) nor the database's text.
 */
import { MysqlEventStoreDriver, MysqlFleetDriver, migrate } from '@ctlplane/adapters/mysql';
import {
  EventStore,
  Fleet,
  Harpoon,
  HarpoonClient,
  HarpoonHttpServer,
  UnauthorizedError,
  UnavailableError,
} from '@ctlplane/core';
import { afterAll, expect, it } from 'vitest';
import { create, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';

/** The test database's URL with a password the server refuses. */
function wrongPasswordUrl(): string {
  const u = new URL(mysqlUrl());
  u.password = 'not-the-password-9f2c';
  return u.toString();
}

describeWith('mysql', 'MySQL errors a newcomer meets', () => {
  const admin = testPool({ connectionLimit: 1 });
  const prefix = uniquePrefix('unmig');
  afterAll(async () => {
    await dropPrefixed(admin, prefix);
    await admin.end();
  });

  it('a refused password: UnauthorizedError from the store at once (not retried), and from migrate', async () => {
    const store = new EventStore({
      driver: new MysqlEventStoreDriver({ url: wrongPasswordUrl() }),
      types: testTypes,
    });
    let retries = 0;
    store.on('store:retry', () => retries++);
    try {
      const err = await store.append([create(1)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect((err as UnauthorizedError).code).toBe('UNAUTHORIZED');
      expect((err as Error).message).toMatch(/access denied/i);
      expect((err as Error).message).not.toContain('not-the-password');
      expect(retries).toBe(0);
    } finally {
      await store.close();
    }
    await expect(migrate({ url: wrongPasswordUrl(), tablePrefix: prefix })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });

  it('an un-migrated database: the error says to run `ctlplane migrate`, for the store and the fleet', async () => {
    const store = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix: prefix, poolSize: 1 }),
      types: testTypes,
    });
    const fleet = new Fleet({
      driver: new MysqlFleetDriver({ url: mysqlUrl(), tablePrefix: prefix, poolSize: 1 }),
    });
    try {
      for (const call of [() => store.append([create(1)]), () => store.get(1), () => fleet.list()]) {
        const err = await call().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UnavailableError);
        expect((err as UnavailableError).transient).toBe(false);
        expect((err as Error).message).toContain(`${prefix}`);
        expect((err as Error).message).toContain('npx ctlplane migrate');
      }
    } finally {
      await fleet.close();
      await store.close();
    }
  });

  it('behind Harpoon over HTTP, a refused database password is a 503 for the caller, not a 401', async () => {
    const store = new EventStore({
      driver: new MysqlEventStoreDriver({ url: wrongPasswordUrl() }),
      types: testTypes,
    });
    const harpoon = new Harpoon({ store });
    const token = 'mysql-errors-token-0123456789';
    const server = new HarpoonHttpServer({ harpoon, tokens: [{ service: 'api', token }] });
    await server.listen();
    try {
      const client = new HarpoonClient({ url: server.url, token });
      const err = await client.get(1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).not.toMatch(/access denied|@'/i);
    } finally {
      await server.close();
      await harpoon.close();
      await store.close();
    }
  });
});
