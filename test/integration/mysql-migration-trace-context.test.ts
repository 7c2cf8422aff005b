/**
 * The upgrade that stores trace contexts (migration 2026120710: two nullable columns) on a
 * populated table: rows written before it read back with no trace context, new rows keep theirs,
 * the feed goes on from its position, and a stored value that is not a W3C trace context is
 * refused on read as a corrupt row.
 */
import { EVENT_STORE_MIGRATIONS, MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, expect, it } from 'vitest';
import { create, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';

const TRACE = 2026120710;
const BEFORE = 2026120630;
const OLD_ROWS = 1_000;

describeWith('mysql', 'MySQL upgrade: trace context columns on a populated table', () => {
  const tablePrefix = uniquePrefix('mtc');
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

  it('adds the columns; old rows have no trace context, new ones keep theirs', async () => {
    const staged = await migrate({ url: mysqlUrl(), tablePrefix, to: BEFORE });
    expect(staged.applied).not.toContain(TRACE);
    const t = `\`${tablePrefix}events\``;
    // Rows as the previous release wrote them: no trace columns exist yet.
    const payload = JSON.stringify(create(0).payload);
    const rows = Array.from({ length: OLD_ROWS }, (_, i) => [
      i + 1,
      'droplet.create',
      'nyc1',
      'pending',
      payload,
    ]);
    await admin.query(
      `INSERT INTO ${t} (seq, type, region, status, payload, created_at, updated_at) VALUES ?`,
      [rows.map((r) => [...r, new Date(), new Date()])],
    );
    await admin.query(`UPDATE \`${tablePrefix}feed_seq\` SET v = ? WHERE id = 1`, [OLD_ROWS]);

    const upgrade = await migrate({ url: mysqlUrl(), tablePrefix });
    expect(upgrade.applied).toEqual([TRACE]);
    const [columns] = await admin.query<RowDataPacket[]>(
      `SELECT column_name AS c, is_nullable AS n FROM information_schema.COLUMNS WHERE table_schema = DATABASE() AND table_name = ? AND column_name LIKE 'trace%' ORDER BY 1`,
      [`${tablePrefix}events`],
    );
    expect(columns.map((r) => [r.c, r.n])).toEqual([
      ['trace_parent', 'YES'],
      ['trace_state', 'YES'],
    ]);

    const old = await store.query({ limit: 1_000 });
    expect(old.events).toHaveLength(OLD_ROWS);
    expect(old.events.every((e) => e.traceContext === null && JSON.stringify(e.payload) === payload)).toBe(
      true,
    );
    const tc = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'a=1' };
    const [fresh] = await store.append([create(1, { traceContext: tc })]);
    expect(fresh!.seq).toBe(OLD_ROWS + 1);
    expect((await store.get(fresh!.id))!.traceContext).toEqual(tc);
    const [claimed] = await store.claim({ owner: 'w', limit: 1, leaseMs: 60_000, status: 'pending' });
    expect(claimed!.traceContext).toBeNull();

    // A crash after the DDL and before its version was recorded: the re-run is harmless on MariaDB.
    const [version] = await admin.query<RowDataPacket[]>('SELECT VERSION() AS v');
    if (/mariadb/i.test(String(version[0]!.v))) {
      const migration = EVENT_STORE_MIGRATIONS.find((m) => m.version === TRACE)!;
      const dialect = { mariadb: true, binaryCollation: 'utf8mb4_nopad_bin' };
      for (const sql of migration.up(tablePrefix, dialect)) await admin.query(sql);
    }

    await admin.query(`UPDATE ${t} SET trace_parent = ? WHERE id = ?`, ['not-a-traceparent', fresh!.id]);
    await expect(store.get(fresh!.id)).rejects.toThrow(/corrupt events row: trace_parent/);
  });
});
