/**
 * EventStore.append on MariaDB against the memory store, input for input: both accept or both
 * refuse, a refused batch leaves no row, and an accepted event reads back as it was given
 * (hostile unicode and SQL-looking strings included).
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, type StoredEvent } from '@ctlplane/core';
import fc from 'fast-check';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { hostileJson, hostileString, nameLike } from './fixtures/security-arbitraries.js';
import { fuzzParams, Tally } from './fixtures/security-kit.js';

const RUNS = 150;

/** Names: usually valid, sometimes hostile (trailing spaces and lone surrogates included). */
const name = nameLike;

const event = fc.oneof(
  fc.record(
    {
      type: fc.oneof(fc.constant('droplet.create' as const), hostileString),
      payload: fc.record({
        vcpus: fc.integer({ min: 0, max: 64 }),
        memoryMb: fc.integer(),
        image: hostileString,
      }),
      region: name,
      serverId: fc.option(name, { nil: undefined }),
      idempotencyKey: fc.option(name, { nil: undefined }),
    },
    { requiredKeys: ['type', 'payload', 'region'] },
  ),
  fc.record({
    type: fc.constant('blob' as const),
    payload: fc.record({ data: hostileString, nested: hostileJson }),
    region: name,
    serverId: fc.option(name, { nil: undefined }),
  }),
);

const view = (e: StoredEvent) => ({
  type: e.type,
  region: e.region,
  serverId: e.serverId,
  status: e.status,
  idempotencyKey: e.idempotencyKey,
  payload: JSON.parse(JSON.stringify(e.payload)) as unknown,
});

describeWith('mysql', 'EventStore.append on MariaDB vs memory, under fuzzing', () => {
  const tablePrefix = uniquePrefix('secev');
  const admin = testPool({ connectionLimit: 2 });
  let mysql: EventStore<TestSchemas>;
  let memory: EventStore<TestSchemas>;
  const rows = async (): Promise<number> => {
    const [r] = await admin.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${tablePrefix}events\``);
    return Number(r[0]!.n);
  };

  beforeAll(async () => {
    await migrate({ url: mysqlUrl(), tablePrefix });
    mysql = new EventStore({
      driver: new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix, poolSize: 2 }),
      types: testTypes,
    });
    memory = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  });
  afterAll(async () => {
    await mysql?.close();
    await memory?.close();
    await dropPrefixed(admin, tablePrefix);
    await admin.end();
  });

  it(`accepts and refuses what the memory store does, all or nothing, for ${RUNS} batches`, async () => {
    const tally = new Tally('EventStore.append (MariaDB vs memory)');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 4 }), async (batch) => {
        // Keys unique per run: a replay across runs is the contract suite's business.
        const events = batch.map((e) =>
          'idempotencyKey' in e && e.idempotencyKey
            ? { ...e, idempotencyKey: `${run}:${e.idempotencyKey}` }
            : e,
        );
        run++;
        const before = await rows();
        const [m, y] = await Promise.all([
          memory.append(events as never).then(
            (r) => ({ ok: true as const, r }),
            (e: { code?: string }) => ({ ok: false as const, code: e.code }),
          ),
          mysql.append(events as never).then(
            (r) => ({ ok: true as const, r }),
            (e: { code?: string; message?: string }) => ({
              ok: false as const,
              code: e.code,
              message: e.message,
            }),
          ),
        ]);
        expect(y.ok ? 'stored' : y.code, JSON.stringify(y)).toBe(m.ok ? 'stored' : m.code);
        if (!y.ok || !m.ok) {
          expect(await rows()).toBe(before);
          tally.add(`refused ${y.ok ? '' : y.code}`);
          return;
        }
        expect(await rows()).toBe(before + events.length);
        for (const [i, e] of y.r.entries()) {
          const back = await mysql.get(e.id);
          expect(view(back!)).toEqual(view(m.r[i]!));
        }
        tally.add('stored, read back equal');
      }),
      fuzzParams(RUNS),
    );
    tally.print();
    expect(tally.count('stored, read back equal')).toBeGreaterThan(0);
  });

  it('regression(mysql-pad-space): an idempotency key with a trailing space is a new key, as in memory', async () => {
    const key = `pad-${run()}`;
    const [first] = await mysql.append([
      { type: 'blob', payload: { data: 'a' }, region: 'r', idempotencyKey: key },
    ]);
    const [m1] = await memory.append([
      { type: 'blob', payload: { data: 'a' }, region: 'r', idempotencyKey: key },
    ]);
    const [m2] = await memory.append([
      { type: 'blob', payload: { data: 'b' }, region: 'r', idempotencyKey: `${key} ` },
    ]);
    expect(m2!.id).not.toBe(m1!.id); // the memory store: two keys, two events
    // Found by fuzzing: MariaDB's utf8mb4_bin is a PAD SPACE collation, so `key ` collided with
    // `key` in the unique index and append answered UnavailableError ("concurrent append").
    const second = await mysql
      .append([{ type: 'blob', payload: { data: 'b' }, region: 'r', idempotencyKey: `${key} ` }])
      .catch((e: unknown) => e);
    expect(second).toEqual([expect.objectContaining({ idempotencyKey: `${key} ` })]);
    expect((second as StoredEvent[])[0]!.id).not.toBe(first!.id);
  });

  it('regression(mysql-pad-space): a filter on server "hv-x " does not return the events of server "hv-x"', async () => {
    const server = `hv-${run()}`;
    await mysql.append([{ type: 'blob', payload: { data: 'a' }, region: 'pad', serverId: server }]);
    await memory.append([{ type: 'blob', payload: { data: 'a' }, region: 'pad', serverId: server }]);
    expect((await memory.query({ serverId: `${server} ` })).events).toEqual([]);
    // Found by fuzzing (PAD SPACE): an agent whose token named "hv-x " would have been sent hv-x's
    // events by a resync read from MariaDB.
    const page = await mysql.query({ serverId: `${server} ` });
    expect(page.events.map((e) => e.serverId)).toEqual([]);
  });

  it('regression(mysql-lone-surrogate): a name with a lone surrogate is refused or stored exactly, never altered', async () => {
    const region = `r-${run()}\uD800`;
    const outcome = await mysql
      .append([{ type: 'blob', payload: { data: 'x' }, region, serverId: 'hv\uDC00' }])
      .then(
        async ([e]) => {
          const back = await mysql.get(e!.id);
          return { stored: [back!.region, back!.serverId] };
        },
        (e: { code?: string }) => ({ refused: e.code }),
      );
    // Found by fuzzing: MariaDB (utf8mb4) stored U+FFFD instead, so the event read back under
    // another name.
    expect([{ refused: 'VALIDATION' }, { stored: [region, 'hv\uDC00'] }]).toContainEqual(outcome);
  });
});

let counter = 0;
function run(): string {
  counter++;
  return `${Date.now().toString(36)}-${counter}`;
}
