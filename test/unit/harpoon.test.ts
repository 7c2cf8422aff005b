import { MemoryBus, MemoryCursorStore, MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import {
  ALL_EVENTS_PATTERN,
  BusyError,
  EventStore,
  Harpoon,
  type HarpoonOptions,
  ValidationError,
  wireEventSchema,
} from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { create, type TestSchemas, type TestStore, testTypes } from '../contract/event-store.fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(options: Partial<HarpoonOptions<TestSchemas>> = {}) {
  const driver = new MemoryEventStoreDriver();
  const store: TestStore = new EventStore({ driver, types: testTypes });
  const bus = new MemoryBus({ topology: { queues: [{ name: 'audit', bindings: [ALL_EVENTS_PATTERN] }] } });
  const cursors = new MemoryCursorStore();
  const harpoon = new Harpoon<TestSchemas>({ store, bus, cursors, ...options });
  cleanups.push(async () => {
    await harpoon.close();
    await bus.close();
    await store.close();
  });
  return { store, bus, cursors, harpoon };
}

describe('Harpoon', () => {
  it('group-commits concurrent single creates into few transactions', async () => {
    const { harpoon, store } = setup({ creates: { maxBatch: 100, lingerMs: 5, concurrency: 1 } });
    let appends = 0;
    store.on('store:appended', () => appends++);
    const created = await Promise.all(Array.from({ length: 500 }, (_, i) => harpoon.create(create(i))));
    expect(new Set(created.map((e) => e.id)).size).toBe(500);
    expect(appends).toBeLessThanOrEqual(10);
    expect(harpoon.stats.batches).toBe(appends);
  });

  it('rejects a bad request on its own, without failing the batch it would have joined', async () => {
    const { harpoon } = setup();
    const results = await Promise.allSettled([
      harpoon.create(create(1)),
      harpoon.create({ type: 'droplet.create', payload: { vcpus: -1 }, region: 'nyc1' } as never),
      harpoon.create(create(2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
  });

  it('stores a valid create and rejects an invalid one of the same batch with ValidationError', async () => {
    const { harpoon, store } = setup({ creates: { maxBatch: 100, lingerMs: 20, concurrency: 1 } });
    const sizes: number[] = [];
    harpoon.on('harpoon:batch', (b) => sizes.push(b.size));
    const valid = harpoon.create(create(1));
    const invalid = harpoon.create({ ...create(2), payload: { ...create(2).payload, vcpus: -1 } });
    await expect(invalid).rejects.toSatisfy(
      (err) => err instanceof ValidationError && err.issues[0]?.path === '[0].payload.vcpus',
    );
    const stored = await valid;
    expect(sizes).toEqual([1]);
    expect((await store.query()).events).toEqual([stored]);
    expect(stored.payload).toEqual(create(1).payload);
  });

  it('stores what create() was given even when the caller changes its payload before the batch runs', async () => {
    const { harpoon, store } = setup({ creates: { maxBatch: 100, lingerMs: 20, concurrency: 1 } });
    const sizes: number[] = [];
    harpoon.on('harpoon:batch', (b) => sizes.push(b.size));
    const droplet = create(1);
    const blob = {
      type: 'blob' as const,
      payload: { data: 'before', nested: { tags: ['before'] } },
      region: 'nyc1',
    };
    const pending = [
      harpoon.create(create(0)),
      harpoon.create(droplet),
      harpoon.create(blob),
      harpoon.create(create(3)),
    ];
    // Still queued (the batch lingers 20 ms): break the schema at the top, and change data zod passes through as is.
    droplet.payload.vcpus = -1;
    blob.payload.data = 'after';
    blob.payload.nested.tags[0] = 'after';
    blob.payload.nested.tags.push('extra');
    const results = await Promise.allSettled(pending);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(sizes).toEqual([4]);
    const stored = (await store.query()).events;
    expect(stored.map((e) => e.payload)).toEqual([
      create(0).payload,
      create(1).payload,
      { data: 'before', nested: { tags: ['before'] } },
      create(3).payload,
    ]);
  });

  it('coalesces transitions and reports each outcome to its caller', async () => {
    const { harpoon } = setup();
    const events = await harpoon.createMany(Array.from({ length: 20 }, (_, i) => create(i)));
    const results = await Promise.allSettled(
      events.map((e, i) =>
        harpoon.transition({
          id: e.id,
          version: i % 2 ? e.version : e.version + 7,
          to: 'placed',
          serverId: 'hv',
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => (r as PromiseRejectedResult).reason.code === 'CONFLICT'),
    ).toBe(true);
  });

  it('answers BusyError past its pending limit instead of queueing without bound', async () => {
    const { harpoon } = setup({ maxPending: 10, creates: { maxBatch: 5, lingerMs: 50, concurrency: 1 } });
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => harpoon.create(create(i))));
    const busy = results.filter((r) => r.status === 'rejected');
    expect(busy.length).toBeGreaterThan(0);
    expect((busy[0] as PromiseRejectedResult).reason).toBeInstanceOf(BusyError);
    expect((busy[0] as PromiseRejectedResult).reason.retryAfterMs).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(10);
  });

  it('shares identical concurrent reads', async () => {
    const { harpoon } = setup();
    const [e] = await harpoon.createMany([create(1)]);
    const reads = await Promise.all(Array.from({ length: 50 }, () => harpoon.get(e!.id)));
    expect(reads.every((r) => r?.id === e!.id)).toBe(true);
    expect(harpoon.stats.sharedReads).toBe(49);
  });

  it('relays every committed change to the bus, in feed order, with stable message ids', async () => {
    const { harpoon, bus } = setup();
    harpoon.start();
    const got: { id: string; seq: number; status: string }[] = [];
    await bus.subscribe({ queue: 'audit' }, (d) => {
      const e = wireEventSchema.parse(d.message.body);
      got.push({ id: d.message.id, seq: e.seq, status: e.status });
    });
    const events = await Promise.all(Array.from({ length: 30 }, (_, i) => harpoon.create(create(i))));
    await Promise.all(
      events.map((e) => harpoon.transition({ id: e.id, from: 'pending', to: 'placed', serverId: 'hv-1' })),
    );
    await expect.poll(() => got.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(30);
    await expect.poll(() => got.filter((g) => g.status === 'placed').length, { timeout: 5_000 }).toBe(30);
    const seqs = got.map((g) => g.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(got[0]!.id).toMatch(/^event:\d+:v\d+$/);
    await expect.poll(() => harpoon.relayLag()).toBe(0);
  });

  it('resumes relaying from the saved cursor after a restart, losing nothing', async () => {
    const { store, bus, cursors, harpoon } = setup();
    harpoon.start();
    const seen = new Set<number>();
    await bus.subscribe({ queue: 'audit' }, (d) => {
      seen.add(wireEventSchema.parse(d.message.body).id);
    });
    await harpoon.createMany(Array.from({ length: 10 }, (_, i) => create(i)));
    await expect.poll(() => seen.size).toBe(10);
    await harpoon.close();
    await store.append(Array.from({ length: 10 }, (_, i) => create(i)));
    const second = new Harpoon({ store, bus, cursors });
    cleanups.push(() => second.close());
    second.start();
    await expect.poll(() => seen.size, { timeout: 5_000 }).toBe(20);
    expect(await cursors.load('harpoon')).toBe(await store.head());
  });

  it('requires a cursor store with a bus', () => {
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
    expect(() => new Harpoon({ store, bus: new MemoryBus() })).toThrow(/cursors/);
  });
});
