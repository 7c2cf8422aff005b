import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, expect, it } from 'vitest';
import { create, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

describeWith('mysql', 'MySQL event store: migrations, options, pool', () => {
  const admin = testPool({ connectionLimit: 2 });
  const prefixes: string[] = [];
  const prefix = (tag: string) => {
    const p = uniquePrefix(tag);
    prefixes.push(p);
    return p;
  };
  afterAll(async () => {
    for (const p of prefixes) await dropPrefixed(admin, p);
    await admin.end();
  });

  it('migrates once, and is safe to run twice and from two processes at once', async () => {
    const tablePrefix = prefix('mig');
    const cli = [
      '--import',
      'tsx',
      resolve(root, 'packages/adapters/src/cli.ts'),
      'migrate',
      '--url',
      mysqlUrl(),
      '--prefix',
      tablePrefix,
    ];
    const [p1, p2] = await Promise.all([
      run(process.execPath, cli, { cwd: root }),
      run(process.execPath, cli, { cwd: root }),
    ]);
    const outputs = [p1.stdout, p2.stdout].join('\n');
    expect(outputs).toMatch(/applied \d+ migration/);
    const again = await migrate({ url: mysqlUrl(), tablePrefix });
    expect(again.applied).toEqual([]);
    expect(again.skipped.length).toBeGreaterThan(0);
    const [rows] = await admin.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM \`${tablePrefix}migrations\``,
    );
    expect(Number(rows[0]!.n)).toBe(again.skipped.length);
  });

  it('validates the table prefix and options, naming the field', () => {
    expect(() => new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix: 'x; DROP TABLE y' })).toThrow(
      /tablePrefix/,
    );
    expect(() => new MysqlEventStoreDriver({ url: mysqlUrl(), poolSize: 0 })).toThrow(/poolSize/);
    expect(() => new MysqlEventStoreDriver({ url: 'postgres://x' })).toThrow(/url/);
    expect(() => new MysqlEventStoreDriver({} as never)).toThrow(/exactly one of url, urls or pool/);
  });

  it('never holds more connections than poolSize, and reports how many it holds', async () => {
    const tablePrefix = prefix('pool');
    await migrate({ url: mysqlUrl(), tablePrefix });
    const driver = new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 3 });
    const store = new EventStore({ driver, types: testTypes });
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.append([create(i)])));
    expect(driver.connections()).toBeGreaterThan(0);
    expect(driver.connections()).toBeLessThanOrEqual(3);
    const [procs] = await admin.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = DATABASE() AND command <> 'Query'",
    );
    expect(Number(procs[0]!.n)).toBeGreaterThanOrEqual(driver.connections());
    await store.close();
    expect(driver.connections()).toBe(0);
  });

  it('fails with a clear error when the tables were never migrated', async () => {
    const store = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix: prefix('none') }),
      types: testTypes,
      retries: 0,
    });
    await expect(store.append([create(1)])).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/doesn't exist|migrate/),
    });
    await store.close();
  });

  it('retries a deadlock-prone workload to completion and reports the retries', async () => {
    const tablePrefix = prefix('dl');
    await migrate({ url: mysqlUrl(), tablePrefix });
    const store = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 8 }),
      types: testTypes,
    });
    const events = await store.append(Array.from({ length: 40 }, (_, i) => create(i, { serverId: 's' })));
    let retries = 0;
    store.on('store:retry', () => retries++);
    // Overlapping batches in opposite orders: row locks are taken in id order, so none deadlock.
    const ids = events.map((e) => e.id);
    await Promise.all(
      Array.from({ length: 8 }, (_, w) =>
        store.transitionMany(
          (w % 2 ? [...ids].reverse() : ids).map((id) => ({
            id,
            from: 'placed' as const,
            to: 'cancelled' as const,
          })),
        ),
      ),
    );
    const all = await store.query({ status: 'cancelled', limit: 100 });
    expect(all.events).toHaveLength(40);
    expect(retries).toBe(0);
    await store.close();
  });
});
