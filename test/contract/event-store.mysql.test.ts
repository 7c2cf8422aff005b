import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import { afterAll, beforeAll } from 'vitest';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { describeEventStore } from './event-store.contract.js';
import { type TestStore, testTypes } from './event-store.fixtures.js';

describeWith('mysql', 'MySQL EventStore', () => {
  const prefixes: string[] = [];
  const admin = testPool({ connectionLimit: 2 });
  beforeAll(async () => {
    await admin.query('SELECT 1');
  });
  afterAll(async () => {
    for (const p of prefixes) await dropPrefixed(admin, p);
    await admin.end();
  });

  describeEventStore('mysql', async () => {
    const tablePrefix = uniquePrefix('cs');
    prefixes.push(tablePrefix);
    await migrate({ url: mysqlUrl(), tablePrefix });
    const open = (): TestStore =>
      new EventStore({
        driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 4 }),
        types: testTypes,
      });
    const store = open();
    const driver = new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 1 });
    return {
      store,
      driver,
      peer: async () => open(),
      cleanup: async () => {
        await store.close();
        await driver.close();
        await dropPrefixed(admin, tablePrefix);
      },
    };
  });
});
