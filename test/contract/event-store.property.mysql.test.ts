import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll } from 'vitest';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { testTypes } from './event-store.fixtures.js';
import { describeEventStoreProperties } from './event-store.property.js';

describeWith('mysql', 'MySQL EventStore properties', () => {
  const tablePrefix = uniquePrefix('prop');
  const admin = testPool({ connectionLimit: 2 });
  beforeAll(async () => {
    await migrate({ url: mysqlUrl(), tablePrefix });
  });
  afterAll(async () => {
    await dropPrefixed(admin, tablePrefix);
    await admin.end();
  });
  // One schema for every run; each run starts from empty tables.
  describeEventStoreProperties(
    'mysql',
    async () => {
      await admin.query(`DELETE FROM \`${tablePrefix}events\``);
      await admin.query<RowDataPacket[]>(`UPDATE \`${tablePrefix}feed_seq\` SET v = 0`);
      const driver = new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 4 });
      const store = new EventStore({ driver, types: testTypes });
      return { store, driver, cleanup: () => store.close() };
    },
    25,
  );
});
