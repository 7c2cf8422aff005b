import { MysqlFleetDriver, migrate } from '@ctlplane/adapters/mysql';
import { Fleet } from '@ctlplane/core';
import { afterAll } from 'vitest';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { describeFleet } from './fleet.contract.js';

describeWith('mysql', 'MySQL Fleet', () => {
  const admin = testPool({ connectionLimit: 2 });
  afterAll(async () => {
    await admin.end();
  });

  describeFleet('mysql', async () => {
    const tablePrefix = uniquePrefix('fl');
    await migrate({ url: mysqlUrl(), tablePrefix });
    const open = () =>
      new Fleet({ driver: new MysqlFleetDriver({ url: mysqlUrl(), tablePrefix, poolSize: 4 }) });
    const fleet = open();
    const peers: Fleet[] = [];
    return {
      fleet,
      // A second pool: another scheduler process as far as the database can tell.
      peer: async () => {
        const f = open();
        peers.push(f);
        return f;
      },
      cleanup: async () => {
        await Promise.all([fleet, ...peers].map((f) => f.close()));
        await dropPrefixed(admin, tablePrefix);
      },
    };
  });
});
