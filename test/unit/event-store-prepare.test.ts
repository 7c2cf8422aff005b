/**
 * EventStore.prepare / appendPrepared (memory driver), the pair Harpoon's group commit uses:
 * prepare fails exactly as `append([event])` would, and appendPrepared takes only records this
 * store prepared, only while it is open.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { ClosedError, EventStore, ValidationError } from '@ctlplane/core';
import type { AppendRecord } from '@ctlplane/core/driver';
import { afterEach, describe, expect, it } from 'vitest';
import { create, type TestStore, testTypes } from '../contract/event-store.fixtures.js';

const stores: TestStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function makeStore(options: { maxPayloadBytes?: number; maxBatchSize?: number } = {}): TestStore {
  const store: TestStore = new EventStore({
    driver: new MemoryEventStoreDriver(),
    types: testTypes,
    ...options,
  });
  stores.push(store);
  return store;
}

/** The error `fn` throws, or fails the test when it throws none. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

async function expectEmpty(store: TestStore): Promise<void> {
  expect(await store.head()).toBe(0);
  expect((await store.query()).events).toEqual([]);
}

const BAD_EVENTS: [string, unknown][] = [
  ['a payload breaking its schema', { type: 'droplet.create', payload: { vcpus: -1 }, region: 'nyc1' }],
  ['an unknown type', { type: 'droplet.teleport', payload: {}, region: 'nyc1' }],
  ['an empty region', { ...create(1), region: '' }],
  ['a region with control characters', { ...create(1), region: 'nyc\u00001' }],
  ['an unknown envelope field', { ...create(1), colour: 'red' }],
  [
    'a payload that is not plain JSON',
    { type: 'blob', payload: { data: 'x', nested: new Map() }, region: 'nyc1' },
  ],
  ['a payload over the size limit', { type: 'blob', payload: { data: 'x'.repeat(300) }, region: 'nyc1' }],
];

describe('EventStore.prepare', () => {
  it.each(BAD_EVENTS)('throws what append([event]) throws for %s, and stores nothing', async (_, event) => {
    const store = makeStore({ maxPayloadBytes: 256 });
    const fromPrepare = thrown(() => store.prepare(event as never));
    const fromAppend = await store.append([event as never]).then(
      () => expect.fail('append accepted a bad event'),
      (err: unknown) => err,
    );
    expect(fromPrepare).toBeInstanceOf(ValidationError);
    expect(fromAppend).toBeInstanceOf(ValidationError);
    const p = fromPrepare as ValidationError;
    const a = fromAppend as ValidationError;
    expect(p.issues.length).toBeGreaterThan(0);
    expect({ code: p.code, message: p.message, issues: p.issues }).toEqual({
      code: a.code,
      message: a.message,
      issues: a.issues,
    });
    await expectEmpty(store);
  });

  it('names the field and the rule, under the same [0] prefix as append', () => {
    const store = makeStore();
    const err = thrown(() =>
      store.prepare({ type: 'droplet.create', payload: { ...create(1).payload, vcpus: -1 }, region: 'nyc1' }),
    ) as ValidationError;
    expect(err.code).toBe('VALIDATION');
    expect(err.issues.map((i) => i.path)).toEqual(['[0].payload.vcpus']);
  });

  it('gives the record its own copy of the payload', async () => {
    const store = makeStore();
    const payload = { data: 'before', nested: { deep: ['before'] } };
    const record = store.prepare({ type: 'blob', payload, region: 'nyc1' });
    payload.data = 'after';
    payload.nested.deep[0] = 'after';
    expect(Object.isFrozen(record)).toBe(true);
    const [stored] = await store.appendPrepared([record]);
    expect(stored!.payload).toEqual({ data: 'before', nested: { deep: ['before'] } });
    expect((await store.get(stored!.id))!.payload).toEqual({ data: 'before', nested: { deep: ['before'] } });
  });
});

describe('EventStore.appendPrepared', () => {
  it('stores records this store prepared, in order, atomically', async () => {
    const store = makeStore();
    const stored = await store.appendPrepared([store.prepare(create(1)), store.prepare(create(2))]);
    expect(stored.map((e) => e.payload)).toEqual([create(1).payload, create(2).payload]);
    expect((await store.query()).events.map((e) => e.id)).toEqual(stored.map((e) => e.id));
  });

  it('rejects a record another EventStore prepared, storing nothing', async () => {
    const store = makeStore();
    const other = makeStore();
    const foreign = other.prepare(create(1));
    await expect(store.appendPrepared([foreign])).rejects.toSatisfy(
      (err) => err instanceof ValidationError && err.issues[0]?.path === '[0]',
    );
    await expectEmpty(store);
    await expectEmpty(other);
  });

  it('rejects a plain object forged to look like a prepared record, storing nothing', async () => {
    const store = makeStore();
    const genuine = store.prepare(create(1));
    const forged: AppendRecord = Object.freeze({ ...genuine });
    expect(forged).toEqual(genuine);
    const handMade: AppendRecord = {
      type: 'droplet.create',
      payload: { vcpus: -1 },
      region: 'nyc1',
      serverId: null,
      status: 'pending',
      idempotencyKey: null,
      traceContext: null,
    };
    for (const fake of [forged, handMade]) {
      await expect(store.appendPrepared([fake])).rejects.toBeInstanceOf(ValidationError);
    }
    // A forged record anywhere in the batch fails the whole batch: the genuine one is not stored.
    const err = await store.appendPrepared([genuine, forged]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['[1]']);
    await expectEmpty(store);
  });

  it('checks the batch size', async () => {
    const store = makeStore({ maxBatchSize: 2 });
    const records = [create(1), create(2), create(3)].map((e) => store.prepare(e));
    await expect(store.appendPrepared([])).rejects.toBeInstanceOf(ValidationError);
    await expect(store.appendPrepared(records)).rejects.toBeInstanceOf(ValidationError);
    await expectEmpty(store);
  });

  it('fails with ClosedError once the store is closed', async () => {
    const store = makeStore();
    const record = store.prepare(create(1));
    await store.close();
    const err = await store.appendPrepared([record]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClosedError);
    expect((err as ClosedError).code).toBe('CLOSED');
  });
});
