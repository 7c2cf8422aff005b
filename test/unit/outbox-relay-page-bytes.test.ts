/**
 * regression(relay-page-bytes), found by the abuse suite: the outbox relay read its batch size of
 * changes at once whatever their size, so 500 changes with 250 KB results were 125 MB read, parsed
 * and encoded per round (four rounds in flight): Harpoon's memory grew by hundreds of MiB and every
 * change behind them waited for the whole page. A round now holds what fits in `maxPageBytes`.
 */
import { MemoryBus, MemoryCursorStore, MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore, OutboxRelay } from '@ctlplane/core';
import { expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';

/** A relay of `store` to `bus` whose publish rounds hold at most 1 MiB of changes. */
const mibRelay = (store: EventStore<TestSchemas>, bus: MemoryBus) =>
  new OutboxRelay({ store, bus, cursors: new MemoryCursorStore(), maxPageBytes: 1024 * 1024, pollMs: 10 });

it('regression(relay-page-bytes): a publish round of large changes stays within maxPageBytes', async () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const bus = new MemoryBus();
  const big = 'x'.repeat(100_000);
  for (let i = 0; i < 6; i++) {
    await store.append(
      Array.from({ length: 20 }, (_, j) => ({ ...create(j), type: 'blob' as const, payload: { data: big } })),
    );
  }
  const small = await store.append(Array.from({ length: 300 }, (_, i) => create(i)));
  const relay = mibRelay(store, bus);
  const rounds: number[] = [];
  relay.on('relay:published', (e) => rounds.push(e.count));
  relay.start();
  await expect.poll(() => relay.cursor, { timeout: 10_000 }).toBe(await store.head());
  await relay.stop();
  await bus.close();
  await store.close();
  // 120 changes of 100 KB first: the first read is sized for the largest change the store allows
  // (one of 848 KiB fits 1 MiB), then never more than ten (1 MiB) per round; the small changes
  // after them go in large rounds.
  expect(rounds.reduce((a, b) => a + b, 0)).toBe(120 + small.length);
  const bigRounds: number[] = [];
  let seen = 0;
  for (const n of rounds) {
    if (seen < 120) bigRounds.push(n);
    seen += n;
  }
  expect(bigRounds[0]).toBe(1);
  expect(Math.max(...bigRounds.slice(1))).toBeLessThanOrEqual(10);
  expect(Math.max(...rounds)).toBeGreaterThan(100);
});

it('regression(relay-page-bytes): large changes right after small ones are published in rounds within maxPageBytes', async () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const bus = new MemoryBus();
  const relay = mibRelay(store, bus);
  const rounds: { count: number; cursor: number }[] = [];
  relay.on('relay:published', (e) => rounds.push(e));
  // Small changes first, relayed, so that the relay sizes its reads for small changes (500).
  await store.append(Array.from({ length: 600 }, (_, i) => create(i)));
  relay.start();
  await expect.poll(() => relay.cursor, { timeout: 10_000 }).toBe(await store.head());
  const smallHead = relay.cursor;
  expect(Math.max(...rounds.map((r) => r.count))).toBe(500);
  // Then 120 changes of 100 KB in one commit: the next read takes them all (12 MB), and they go
  // in rounds of at most ten (10 × 100 KB fit 1 MiB, 11 do not).
  const big = 'x'.repeat(100_000);
  await store.append(
    Array.from({ length: 120 }, (_, j) => ({ ...create(j), type: 'blob' as const, payload: { data: big } })),
  );
  await expect.poll(() => relay.cursor, { timeout: 10_000 }).toBe(await store.head());
  await relay.stop();
  await bus.close();
  await store.close();
  const bigRounds = rounds.filter((r) => r.cursor > smallHead).map((r) => r.count);
  expect(bigRounds.reduce((a, b) => a + b, 0)).toBe(120);
  expect(Math.max(...bigRounds)).toBe(10);
  expect(bigRounds.length).toBeGreaterThanOrEqual(12);
});
