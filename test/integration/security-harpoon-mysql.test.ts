/**
 * The Harpoon HTTP fuzz, smaller, on MariaDB: the same hostile requests must leave the events
 * table holding exactly the rows the 201 answers named, create or drop no table (SQL-looking
 * strings are data, never SQL), and leave the server serving.
 */
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Harpoon, HarpoonClient } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { fuzzHarpoon, fuzzServer, HARPOON_TOKENS } from './fixtures/security-harpoon.js';
import { fuzzParams, RecordingLogger, Tally } from './fixtures/security-kit.js';

const RUNS = 250;

describeWith('mysql', 'Harpoon HTTP API under fuzzing (MariaDB)', () => {
  const tablePrefix = uniquePrefix('secfz');
  const admin = testPool({ connectionLimit: 2 });
  const log = new RecordingLogger('harpoon');
  let store: EventStore<TestSchemas>;
  let harpoon: Harpoon<TestSchemas>;
  let server: ReturnType<typeof fuzzServer<TestSchemas>>;
  let api: HarpoonClient<TestSchemas>;

  const tables = async (): Promise<string[]> => {
    const [rows] = await admin.query<RowDataPacket[]>(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ? ORDER BY 1',
      [`${tablePrefix.replaceAll('_', '\\_')}%`],
    );
    return rows.map((r) => String(r.t));
  };
  const rowIds = async (): Promise<number[]> => {
    const [rows] = await admin.query<RowDataPacket[]>(`SELECT id FROM \`${tablePrefix}events\` ORDER BY id`);
    return rows.map((r) => Number(r.id));
  };

  beforeAll(async () => {
    await migrate({ url: mysqlUrl(), tablePrefix });
    store = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 2, logger: log }),
      types: testTypes,
      logger: log,
    });
    harpoon = new Harpoon<TestSchemas>({ store, logger: log });
    server = fuzzServer(harpoon, log);
    await server.listen();
    api = new HarpoonClient({ url: server.url, token: HARPOON_TOKENS.full });
  });
  afterAll(async () => {
    await server?.close();
    await harpoon?.close();
    await store?.close();
    await dropPrefixed(admin, tablePrefix);
    await admin.end();
  });

  it(`answers ${RUNS} hostile requests, writes exactly what it acknowledged, and runs no injected SQL`, async () => {
    const created = new Set<number>();
    for (const e of await api.createMany(Array.from({ length: 10 }, (_, i) => create(i)))) created.add(e.id);
    const tablesBefore = await tables();
    const tally = new Tally('harpoon-http (MariaDB)');
    const defects = await fuzzHarpoon(server.url, RUNS, fuzzParams(RUNS), tally, created);
    tally.print();
    expect(defects).toEqual([]);
    expect(tally.count('201')).toBeGreaterThan(0);
    expect(tally.count('400 VALIDATION')).toBeGreaterThan(0);
    // Keeps serving, on a pool that the fuzz did not exhaust.
    const after = await api.create(create(42));
    created.add(after.id);
    expect((await api.get(after.id))?.id).toBe(after.id);
    // Nothing half-written, no table created or dropped by SQL-looking strings.
    expect(await rowIds()).toEqual([...created].sort((a, b) => a - b));
    expect(await tables()).toEqual(tablesBefore);
    expect(log.text()).not.toContain(HARPOON_TOKENS.full);
  });
});
