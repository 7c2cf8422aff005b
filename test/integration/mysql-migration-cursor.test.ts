/**
 * The upgrade to the one-round-trip write path (migration 2026120610: new claim and feed
 * indexes) runs on a populated table, and a feed cursor taken before it stays valid after it:
 * the follower resumes from it and sees every later change once, and nothing before it again.
 */
import { EVENT_STORE_MIGRATIONS, MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, expect, it } from 'vitest';
import { create, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';

const BEFORE = 2026113022;
/** The trace context columns (a later migration). */
const TRACE_COLUMNS = 2026120710;

describeWith('mysql', 'MySQL upgrade: a cursor taken before migration 2026120610 stays valid', () => {
  const tablePrefix = uniquePrefix('mig');
  const admin = testPool({ connectionLimit: 2 });
  const store = new EventStore({
    driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix }),
    types: testTypes,
  });
  afterAll(async () => {
    await store.close();
    await dropPrefixed(admin, tablePrefix);
    await admin.end();
  });

  async function indexes(): Promise<string[]> {
    const [rows] = await admin.query<RowDataPacket[]>(
      `SELECT DISTINCT index_name AS i FROM information_schema.STATISTICS WHERE table_schema = DATABASE() AND table_name = ? ORDER BY 1`,
      [`${tablePrefix}events`],
    );
    return rows.map((r) => String(r.i));
  }

  it('migrates a populated table, and the follower resumes from its old cursor', async () => {
    const staged = await migrate({ url: mysqlUrl(), tablePrefix, to: BEFORE });
    expect(staged.applied).not.toContain(2026120610);
    expect(await indexes()).toContain('ix_region_seq');
    // This store is today's code, which writes the trace columns of a later migration: add them
    // ahead (the later run repeats the statement, harmless on MariaDB).
    const dialect = { mariadb: true, binaryCollation: 'utf8mb4_nopad_bin' };
    for (const m of EVENT_STORE_MIGRATIONS.filter((x) => x.version === TRACE_COLUMNS))
      for (const sql of m.up(tablePrefix, dialect)) await admin.query(sql);
    const first = await store.append(
      Array.from({ length: 2_000 }, (_, i) => create(i, { serverId: `hv-${i % 5}` })),
    );
    const work = await store.claim({ owner: 'w', limit: 300, leaseMs: 60_000 });
    await store.transitionMany(work.map((e) => ({ id: e.id, version: e.version, to: 'done' as const })));
    const page = await store.readFeed(0, { limit: 1_000 });
    const cursor = page.cursor;

    const upgrade = await migrate({ url: mysqlUrl(), tablePrefix });
    expect(upgrade.applied).toContain(2026120610);
    expect(await indexes()).toEqual(
      expect.arrayContaining(['ix_seq_region', 'ix_status_server', 'ix_status_region', 'ix_status_lease']),
    );
    expect(await indexes()).not.toContain('ix_region_seq');

    const later = await store.claim({ owner: 'w', limit: 200, leaseMs: 60_000 });
    await store.transitionMany(later.map((e) => ({ id: e.id, version: e.version, to: 'done' as const })));
    const seen: number[] = [];
    for (let c = cursor; ; ) {
      const p = await store.readFeed(c, { limit: 250 });
      if (p.events.length === 0) break;
      seen.push(...p.events.map((e) => e.seq));
      c = p.cursor;
    }
    // Everything after the cursor, once, in order; nothing at or before it.
    const head = await store.head();
    expect(seen.every((s) => s > cursor)).toBe(true);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(head);
    expect(first).toHaveLength(2_000);
    // The 500 events claimed and completed are at their final positions; all after the cursor
    // were read exactly once: what the feed holds past the cursor now.
    const [rows] = await admin.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${tablePrefix}events\` WHERE seq > ?`,
      [cursor],
    );
    expect(seen).toHaveLength(Number(rows[0]!.n));
  });
});
