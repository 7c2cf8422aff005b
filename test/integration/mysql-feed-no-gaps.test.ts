import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { create, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';

describeWith('mysql', 'MySQL feed: no gaps when transactions commit out of id order', () => {
  const tablePrefix = uniquePrefix('gap');
  const admin = testPool({ connectionLimit: 2 });
  let release!: () => void;
  let paused!: Promise<void>;
  let entered!: () => void;
  let pauseNext = false;

  const slowDriver = new MysqlEventStoreDriver({
    url: mysqlUrl(),
    tablePrefix,
    beforeCommit: async (op) => {
      if (op !== 'append' || !pauseNext) return;
      pauseNext = false;
      entered();
      await new Promise<void>((r) => {
        release = r;
      });
    },
  });
  const slow = new EventStore({ driver: slowDriver, types: testTypes });
  const fast = new EventStore({
    driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix }),
    types: testTypes,
  });

  beforeAll(async () => {
    await migrate({ url: mysqlUrl(), tablePrefix });
  });
  afterAll(async () => {
    await Promise.all([slow.close(), fast.close()]);
    await dropPrefixed(admin, tablePrefix);
    await admin.end();
  });

  it('a follower by feed position sees the late commit that a follower by id skips', async () => {
    await fast.append([create(0)]);
    const feedStart = await fast.head();
    const naiveStart = await maxId();

    // Transaction A inserts (takes the lower auto-increment id) and stops just before commit.
    pauseNext = true;
    paused = new Promise((r) => {
      entered = r;
    });
    const a = slow.append([create(1)]);
    await paused;

    // Transaction B inserts later (higher id) and commits first.
    const [b] = await fast.append([create(2)]);

    // Both followers read now: they see B only.
    const naiveSeen1 = await idsAfter(naiveStart);
    const feed1 = await fast.readFeed(feedStart);
    expect(naiveSeen1).toEqual([b!.id]);
    expect(feed1.events.map((e) => e.id)).toEqual([b!.id]);

    // A commits now, after B was read.
    release();
    const [aEvent] = await a;
    expect(aEvent!.id).toBeLessThan(b!.id);

    // The id follower resumes after B's id and misses A for good; the feed follower does not.
    const naiveSeen2 = await idsAfter(Math.max(...naiveSeen1));
    const feed2 = await fast.readFeed(feed1.cursor);
    expect(naiveSeen2).not.toContain(aEvent!.id);
    expect(feed2.events.map((e) => e.id)).toEqual([aEvent!.id]);
    expect(aEvent!.seq).toBeGreaterThan(b!.seq);
  });

  async function maxId(): Promise<number> {
    const [rows] = await admin.query<RowDataPacket[]>(
      `SELECT COALESCE(MAX(id), 0) AS m FROM \`${tablePrefix}events\``,
    );
    return Number(rows[0]!.m);
  }
  async function idsAfter(id: number): Promise<number[]> {
    const [rows] = await admin.query<RowDataPacket[]>(
      `SELECT id FROM \`${tablePrefix}events\` WHERE id > ? ORDER BY id`,
      [id],
    );
    return rows.map((r) => Number(r.id));
  }
});
