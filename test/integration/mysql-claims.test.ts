/**
 * Claims on MySQL that scale with their number: concurrent claimers each get distinct work
 * without coming back empty while work is left (no herd on the same candidates), and a claim
 * with nothing to do never queues on the feed counter that writes hold.
 */
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { create, type TestStore, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';

describeWith('mysql', 'MySQL claims: no herd, no idle wait', () => {
  const tablePrefix = uniquePrefix('clm');
  const admin = testPool({ connectionLimit: 2 });
  let store: TestStore;

  beforeAll(async () => {
    await migrate({ url: mysqlUrl(), tablePrefix });
    store = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 16 }),
      types: testTypes,
    });
  });
  afterAll(async () => {
    await store.close();
    await dropPrefixed(admin, tablePrefix);
    await admin.end();
  });

  it('16 concurrent claimers never come back empty while enough work is left', async () => {
    const total = 3_000;
    for (let i = 0; i < total; i += 1_000)
      await store.append(Array.from({ length: 1_000 }, (_, j) => create(j)));
    const claimers = 16;
    const limit = 10;
    let claimed = 0;
    let herded = 0;
    const ids = new Set<number>();
    await Promise.all(
      Array.from({ length: claimers }, async (_, w) => {
        for (;;) {
          const before = claimed;
          const batch = await store.claim({ owner: `w${w}`, status: 'pending', limit, leaseMs: 60_000 });
          if (batch.length === 0) {
            // Empty while at least two rounds of every claimer's batch were left: a herd miss.
            if (total - before >= 2 * claimers * limit) herded++;
            if (claimed >= total) return;
            continue;
          }
          claimed += batch.length;
          for (const e of batch) ids.add(e.id);
        }
      }),
    );
    expect(ids.size).toBe(total);
    expect(claimed).toBe(total);
    expect(herded).toBe(0);
  });

  it('a claim with nothing to claim does not wait for the feed counter', async () => {
    const holder = await admin.getConnection();
    try {
      await holder.query('START TRANSACTION');
      await holder.query(`SELECT v FROM \`${tablePrefix}feed_seq\` WHERE id = 1 FOR UPDATE`);
      const t0 = Date.now();
      const got = await store.claim({ owner: 'idle', serverId: 'no-such-server', limit: 10, leaseMs: 1_000 });
      expect(got).toEqual([]);
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });
});
