/**
 * regression(relay-stall), issue 13 finding 2: one change the bus can never publish stalled the
 * outbox relay for every region, for good — it retried the same page from its saved cursor
 * forever. Such a change is now parked (recorded in the cursor store, counted, logged) and the
 * relay moves past it; a transient failure still stops the relay until the bus is back.
 */
import { MemoryBus, MemoryCursorStore, MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import {
  EventStore,
  Harpoon,
  isUnpublishable,
  type MessageBus,
  OutboxRelay,
  type ParkedChange,
  regionPattern,
  UnavailableError,
  UnpublishableError,
  ValidationError,
} from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { create, type TestSchemas, type TestStore, testTypes } from '../contract/event-store.fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A store and a bus whose messages are at most 64 KiB, with one queue per region. */
async function setup() {
  const driver = new MemoryEventStoreDriver();
  const store: TestStore = new EventStore({ driver, types: testTypes });
  const bus = new MemoryBus({
    maxMessageBytes: 64 * 1024,
    topology: { queues: ['a', 'b'].map((r) => ({ name: `q-${r}`, bindings: [regionPattern(r)] })) },
  });
  // Event ids per region, each once, in order of first arrival (delivery is at least once).
  const received = new Map<string, number[]>([
    ['a', []],
    ['b', []],
  ]);
  for (const r of ['a', 'b']) {
    await bus.subscribe({ queue: `q-${r}` }, (d) => {
      const ids = received.get(r)!;
      const id = (d.message.body as { id: number }).id;
      if (!ids.includes(id)) ids.push(id);
    });
  }
  const cursors = new MemoryCursorStore();
  cleanups.push(async () => {
    await bus.close();
    await store.close();
  });
  return { driver, store, bus, cursors, received };
}

/** `inner`, except that its first `times` calls of `publishMany` throw `error()`. */
function failingPublishes(inner: MessageBus, times: number, error: () => Error): MessageBus {
  let left = times;
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'publishMany' && left > 0) {
        return async () => {
          left--;
          throw error();
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as MessageBus;
}

/** A started relay of `store` to `bus`, stopped after the test, counting its `relay:error`s. */
function startCountingErrors(store: TestStore, bus: MessageBus, cursors: MemoryCursorStore) {
  const relay = new OutboxRelay({ store: store as unknown as EventStore, bus, cursors, pollMs: 10 });
  cleanups.push(() => relay.stop());
  let errors = 0;
  relay.on('relay:error', () => errors++);
  relay.start();
  return { relay, errors: () => errors };
}

const big = (region: string) => ({ type: 'blob' as const, payload: { data: 'x'.repeat(100_000) }, region });
const small = (i: number, region: string) => ({ ...create(i), region });

describe('OutboxRelay: a change that can never be published', () => {
  it('regression(relay-stall): is parked, and the changes behind it flow in every region', async () => {
    const { store, bus, cursors, received } = await setup();
    const [tooBig] = await store.append([big('a')]);
    const rest = await store.append(Array.from({ length: 10 }, (_, i) => small(i, i % 2 ? 'a' : 'b')));
    const harpoon = new Harpoon<TestSchemas>({ store, bus, cursors, relay: { batchSize: 4, pollMs: 10 } });
    cleanups.push(() => harpoon.close());
    const parkedEvents: unknown[] = [];
    const errors: Error[] = [];
    harpoon.on('relay:parked', (e) => parkedEvents.push(e));
    harpoon.on('relay:error', (e) => errors.push(e.error));
    harpoon.start();

    await expect.poll(() => received.get('b')!.length, { timeout: 5_000 }).toBe(5);
    await expect.poll(() => received.get('a')!.length, { timeout: 5_000 }).toBe(5);
    // Pages read after the refused one went out before its other changes were published again;
    // each event's latest version still arrives (consumers drop older versions).
    const inB = rest.filter((e) => e.region === 'b').map((e) => e.id);
    expect([...received.get('b')!].sort((x, y) => x - y)).toEqual(inB);
    expect(received.get('a')).not.toContain(tooBig!.id);
    await expect.poll(() => harpoon.stats.relayCursor).toBe(await store.head());
    expect(harpoon.stats.parked).toBe(1);
    expect(harpoon.stats.published).toBe(10);
    expect(parkedEvents).toEqual([
      {
        eventId: tooBig!.id,
        version: 1,
        seq: tooBig!.seq,
        reason: expect.stringMatching(/65536-byte limit/),
      },
    ]);
    const [parked] = await harpoon.parkedChanges();
    expect(parked).toMatchObject({ eventId: tooBig!.id, version: 1, seq: tooBig!.seq });
    expect(parked!.parkedAt).toBeInstanceOf(Date);
    expect(errors).toEqual([]); // parking is not a failure: no backoff, no retry
  });

  it('regression(relay-stall): parks a stored change whose routing key is over 255 bytes', async () => {
    const { driver, store, bus, cursors, received } = await setup();
    // A row written before names were bounded: 191 + 191 characters of region and server id.
    const [legacy] = await driver.append([
      {
        type: 'droplet.create',
        payload: create(0).payload,
        region: 'r'.repeat(191),
        serverId: 's'.repeat(191),
        status: 'placed',
        idempotencyKey: null,
        traceContext: null,
      },
    ]);
    const after = await store.append([small(1, 'b'), small(2, 'b')]);
    const relay = new OutboxRelay({ store: store as unknown as EventStore, bus, cursors, pollMs: 10 });
    cleanups.push(() => relay.stop());
    relay.start();
    await expect.poll(() => received.get('b'), { timeout: 5_000 }).toEqual(after.map((e) => e.id));
    const parked = await relay.parkedChanges();
    expect(parked.map((p) => p.eventId)).toEqual([legacy!.id]);
    expect(parked[0]!.reason).toMatch(/255-byte limit/);
    expect(relay.parked).toBe(1);
  });

  it('stays parked across restarts: a new relay on the same cursor store lists it and starts past it', async () => {
    const { store, bus, cursors, received } = await setup();
    const [tooBig] = await store.append([big('b')]);
    const first = new OutboxRelay({ store: store as unknown as EventStore, bus, cursors, pollMs: 10 });
    first.start();
    await expect.poll(() => first.parked, { timeout: 5_000 }).toBe(1);
    await first.stop();

    const [later] = await store.append([small(1, 'b')]);
    const second = new OutboxRelay({ store: store as unknown as EventStore, bus, cursors, pollMs: 10 });
    cleanups.push(() => second.stop());
    second.start();
    await expect.poll(() => received.get('b'), { timeout: 5_000 }).toEqual([later!.id]);
    expect(second.parked).toBe(0); // not parked again: the saved cursor is past it
    const listed: ParkedChange[] = await second.parkedChanges(10);
    expect(listed.map((p) => [p.eventId, p.version])).toEqual([[tooBig!.id, 1]]);
    await expect(second.parkedChanges(0)).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('retries a transient failure from the saved cursor instead of parking, even beside a bad change', async () => {
    const { store, bus: inner, cursors, received } = await setup();
    const [tooBig] = await store.append([big('b')]);
    const [fine] = await store.append([small(1, 'b')]);
    // The first publishes fail as if the broker were down.
    const bus = failingPublishes(
      inner,
      3,
      () => new UnavailableError('broker went away', { transient: true }),
    );
    const { relay, errors } = startCountingErrors(store, bus, cursors);
    await expect.poll(() => received.get('b'), { timeout: 10_000 }).toEqual([fine!.id]);
    expect(errors()).toBe(3);
    expect((await relay.parkedChanges()).map((p) => p.eventId)).toEqual([tooBig!.id]);
  });

  it('regression(unmarked-validation-parked): retries a publish failure not marked unpublishable, even a ValidationError', async () => {
    const { store, bus: inner, cursors, received } = await setup();
    const [fine] = await store.append([small(1, 'b')]);
    // A bus failing with a plain ValidationError (no known refusal of the message itself, as an
    // unexpected throw of a driver was reported): parking would lose the change for good.
    const bus = failingPublishes(inner, 2, () => new ValidationError('something unexpected'));
    const { relay, errors } = startCountingErrors(store, bus, cursors);
    await expect.poll(() => received.get('b'), { timeout: 10_000 }).toEqual([fine!.id]);
    expect(errors()).toBe(2);
    expect(relay.parked).toBe(0);
    expect(await relay.parkedChanges()).toEqual([]);
  });

  it('isUnpublishable is true only for failures marked unpublishable', async () => {
    const { bus } = await setup();
    const refused = await bus
      .publish({ routingKey: 'evt.b._.t', body: { data: 'x'.repeat(70_000) } })
      .catch((e) => e);
    expect(refused).toBeInstanceOf(UnpublishableError);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(isUnpublishable(refused)).toBe(true);
    const badHeaders = await bus
      .publish({ routingKey: 'evt.b._.t', body: {}, headers: { h: { nested: true } as never } })
      .catch((e) => e);
    expect(isUnpublishable(badHeaders)).toBe(true);
    expect(isUnpublishable(new ValidationError('plain'))).toBe(false);
    expect(isUnpublishable(new UnavailableError('down', { transient: true }))).toBe(false);
    // By code and mark, as a second copy of the package would throw it.
    expect(isUnpublishable(Object.assign(new Error('x'), { code: 'VALIDATION', unpublishable: true }))).toBe(
      true,
    );
  });

  it("publishes an event's latest version last after taking a refused page apart", async () => {
    const { store, bus: inner, cursors } = await setup();
    const versions: number[] = [];
    await inner.subscribe({ queue: 'q-watch', bindings: [regionPattern('b')] }, (d) => {
      versions.push((d.message.body as { version: number }).version);
    });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let calls = 0;
    // The first page (the too-big change and x at version 1) is refused only after the next page
    // (x at version 2) went out, as when confirms of pipelined pages come back out of order.
    const bus = new Proxy(inner, {
      get(target, prop) {
        if (prop === 'publishMany' && calls++ === 0) {
          return async (messages: Parameters<MessageBus['publishMany']>[0]) => {
            await gate;
            return target.publishMany(messages);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as MessageBus;
    await store.append([big('a')]);
    const [x] = await store.append([small(1, 'b')]);
    const relay = new OutboxRelay({ store: store as unknown as EventStore, bus, cursors, pollMs: 5 });
    cleanups.push(() => relay.stop());
    relay.start();
    await expect.poll(() => calls).toBe(1);
    await store.transition({ id: x!.id, from: 'pending', to: 'cancelled' });
    await expect.poll(() => versions, { timeout: 5_000 }).toEqual([2]);
    open();
    await expect.poll(() => relay.parked, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => versions.at(-1), { timeout: 5_000 }).toBe(2);
    expect(versions).toContain(1);
  });
});
