/**
 * regression(relay-skips-failed-page), found by a chaos run: a destroy's `done` never reached the
 * bus although the relay's cursor had passed it. When one page's publish failed while the next
 * page's (already in flight) was confirmed, the next page still saved its cursor, so the relay
 * resumed past the failed page and its changes were never published.
 */
import { MemoryBus, MemoryCursorStore, MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore, type MessageBus, OutboxRelay, UnavailableError } from '@ctlplane/core';
import { afterEach, expect, it } from 'vitest';
import { create, testTypes } from '../contract/event-store.fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('regression(relay-skips-failed-page): never saves a cursor past a page whose publish failed', async () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const inner = new MemoryBus();
  const published = new Set<string>();
  let calls = 0;
  // The first publish fails late, after the second page's publish (in flight beside it) confirmed.
  const bus = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'publishMany') {
        return async (messages: readonly { id?: string }[]) => {
          const call = ++calls;
          if (call === 1) {
            await new Promise((r) => setTimeout(r, 100));
            throw new UnavailableError('broker went away');
          }
          await target.publishMany(messages as Parameters<MessageBus['publishMany']>[0]);
          for (const m of messages) published.add(String(m.id));
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as MessageBus;
  const cursors = new MemoryCursorStore();
  const saved: number[] = [];
  const save = cursors.save.bind(cursors);
  cursors.save = async (name, cursor) => {
    saved.push(cursor);
    await save(name, cursor);
  };
  const events = await store.append(Array.from({ length: 20 }, (_, i) => create(i)));
  const relay = new OutboxRelay({
    ...{ store, bus, cursors },
    ...{ batchSize: 5, maxInFlight: 4, pollMs: 10 },
  });
  cleanups.push(async () => {
    await relay.stop();
    await inner.close();
    await store.close();
  });
  relay.start();
  await expect.poll(() => relay.cursor, { timeout: 10_000 }).toBe(await store.head());
  expect(calls).toBeGreaterThan(4); // the failed page was published again
  for (const e of events) expect(published.has(`event:${e.id}:v${e.version}`), `event ${e.id}`).toBe(true);
  // Saved cursors only ever move forward.
  expect(saved).toEqual([...saved].sort((a, b) => a - b));
});

it('regression(relay-publishes-after-abort): a page read after a round failed is not published', async () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const bus = new MemoryBus();
  cleanups.push(async () => {
    await bus.close();
    await store.close();
  });
  const [first, second] = await store.append([create(1), create(2)]);
  const calls: number[][] = [];
  let failNext = true;
  let failed: () => void = () => {};
  const roundFailed = new Promise<void>((resolve) => {
    failed = resolve;
  });
  const flaky = new Proxy(bus, {
    get(target, prop, receiver) {
      if (prop === 'publishMany') {
        return async (messages: Parameters<MessageBus['publishMany']>[0]) => {
          calls.push(messages.map((m) => (m.body as { id: number }).id));
          if (failNext) {
            failNext = false;
            setTimeout(failed, 20); // the relay has seen the failure by then
            throw new UnavailableError('broker went away', { transient: true });
          }
          return target.publishMany(messages);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as MessageBus;
  // A feed whose second page arrives only after the first page's publish failed: a read that was
  // in flight when the relay stopped reading. Later passes read normally.
  let passes = 0;
  const relayStore = {
    head: () => store.head(),
    follow: (cursor: number, options: Parameters<EventStore['follow']>[1]) => {
      if (passes++ > 0) return store.follow(cursor, options);
      return (async function* () {
        yield { events: [first!], cursor: first!.seq };
        await roundFailed;
        yield { events: [second!], cursor: second!.seq };
      })();
    },
  };
  const relay = new OutboxRelay({
    store: relayStore,
    bus: flaky,
    cursors: new MemoryCursorStore(),
    pollMs: 10,
  });
  relay.start();
  await expect.poll(() => relay.cursor, { timeout: 5_000 }).toBe(second!.seq);
  await relay.stop();
  // main 3d9e261: the second page was published after the failure, before the first was retried.
  expect(calls[0]).toEqual([first!.id]);
  expect(calls[1]).toContain(first!.id);
  expect(calls.flat().indexOf(second!.id)).toBeGreaterThan(calls.flat().indexOf(first!.id, 1));
});
