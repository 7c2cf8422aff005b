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
    beforeWrite: async (op) => {
      if (op !== 'transition' || !pauseNext) return;
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
    // L: an event with a low id, still pending.
    const [low] = await fast.append([create(0)]);
    const feedStart = await fast.head();
    const naiveStart = await maxId();

    // Transaction A places L (lower id) and stops just before it commits.
    pauseNext = true;
    paused = new Promise((r) => {
      entered = r;
    });
    const a = slow.transition({ id: low!.id, from: 'pending', to: 'placed', serverId: 'hv-1' });
    await paused;

    // Transaction B appends H (higher id), placed directly, and commits first.
    const [high] = await fast.append([create(2, { serverId: 'hv-1' })]);
    expect(high!.id).toBeGreaterThan(low!.id);

    // Both followers read now: they see H only. The 2012-style follower polls placed work by id.
    const naiveSeen1 = await placedAfter(naiveStart);
    const feed1 = await fast.readFeed(feedStart);
    expect(naiveSeen1).toEqual([high!.id]);
    expect(feed1.events.map((e) => e.id)).toEqual([high!.id]);

    // A commits now, after H was read.
    release();
    const placed = await a;
    expect(placed.seq).toBeGreaterThan(high!.seq);

    // The id follower resumes after H's id and misses L for good; the feed follower does not.
    const naiveSeen2 = await placedAfter(Math.max(...naiveSeen1));
    const feed2 = await fast.readFeed(feed1.cursor);
    expect(naiveSeen2).not.toContain(low!.id);
    expect(feed2.events.map((e) => [e.id, e.status])).toEqual([[low!.id, 'placed']]);
  });

  it('numbers concurrent appends in commit order: a reader never sees a position before a lower one', async () => {
    const start = await fast.head();
    const writers = Array.from({ length: 6 }, (_, w) =>
      (async () => {
        for (let i = 0; i < 20; i++) await (w % 2 ? slow : fast).append([create(i), create(i + 1)]);
      })(),
    );
    const seen: number[] = [];
    let cursor = start;
    let done = false;
    void Promise.all(writers).then(() => {
      done = true;
    });
    while (!done || (await fast.head()) > cursor) {
      const page = await fast.readFeed(cursor, { limit: 50 });
      for (const e of page.events) seen.push(e.seq);
      cursor = page.cursor;
    }
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => start + i + 1));
    expect(seen).toHaveLength(240);
  });

  it('no reader sees a position before a lower one, however its snapshot races the commits', async () => {
    // MariaDB builds a statement's read view by walking its active-transaction hash without a
    // lock: a commit at position n + 1 that lands during the walk can be seen while the commit at n,
    // walked earlier as active, is not. Every append below numbers its event once and for good, so
    // the positions a follower reads must run without a hole.
    const writing = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 16 }),
      types: testTypes,
    });
    const reading = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 8 }),
      types: testTypes,
    });
    const start = await fast.head();
    const total = Number(process.env.GAP_TOTAL ?? 10_000);
    let appended = 0;
    const holes: string[] = [];
    const appender = async () => {
      while (appended < total && holes.length === 0) {
        appended++;
        await writing.append([create(appended)]);
      }
    };
    const follower = async () => {
      let cursor = start;
      while (cursor < start + total && holes.length === 0) {
        const page = await reading.readFeed(cursor, { limit: 100 });
        let expected = cursor + 1;
        for (const e of page.events) {
          if (e.seq !== expected) holes.push(`after ${cursor}: read ${e.seq}, expected ${expected}`);
          expected = e.seq + 1;
        }
        cursor = page.cursor;
      }
    };
    await Promise.all([
      ...Array.from({ length: 16 }, appender),
      ...Array.from({ length: 8 }, follower),
    ]).finally(() => Promise.all([writing.close(), reading.close()]));
    expect(holes).toEqual([]);
  });

  async function maxId(): Promise<number> {
    const [rows] = await admin.query<RowDataPacket[]>(
      `SELECT COALESCE(MAX(id), 0) AS m FROM \`${tablePrefix}events\``,
    );
    return Number(rows[0]!.m);
  }
  /** The 2012 follower: placed work by id. */
  async function placedAfter(id: number): Promise<number[]> {
    const [rows] = await admin.query<RowDataPacket[]>(
      `SELECT id FROM \`${tablePrefix}events\` WHERE status = 'placed' AND id > ? ORDER BY id`,
      [id],
    );
    return rows.map((r) => Number(r.id));
  }
});
