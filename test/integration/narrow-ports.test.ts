/**
 * The Scheduler and the OutboxRelay ask for narrow store ports (`SchedulerStore`, `RelayStore`),
 * as the EventRouter does (`RouterStore`): each runs here on an `EventStore`, an in-process
 * `Harpoon` and a `HarpoonClient` over loopback HTTP, with no adapter between them.
 */
import {
  MemoryBus,
  MemoryCursorStore,
  MemoryEventStoreDriver,
  MemoryFleetDriver,
} from '@ctlplane/adapters/memory';
import {
  ALL_EVENTS_PATTERN,
  EventStore,
  Fleet,
  Harpoon,
  HarpoonClient,
  HarpoonHttpServer,
  OutboxRelay,
  type RelayStore,
  type RouterStore,
  Scheduler,
  type SchedulerStore,
  wireEventSchema,
} from '@ctlplane/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';

const TOKEN = 'scheduler-token-0123456789abcdef';

describe('narrow store ports', () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const harpoon = new Harpoon<TestSchemas>({ store });
  const server = new HarpoonHttpServer({ harpoon, tokens: [{ service: 'scheduler', token: TOKEN }] });
  let client: HarpoonClient<TestSchemas>;
  let ports: [string, SchedulerStore<TestSchemas> & RelayStore & RouterStore][];

  beforeAll(async () => {
    await server.listen();
    client = new HarpoonClient<TestSchemas>({ url: server.url, token: TOKEN });
    ports = [
      ['EventStore', store],
      ['Harpoon', harpoon],
      ['HarpoonClient', client],
    ];
  });
  afterAll(async () => {
    await server.close();
    await harpoon.close();
    await store.close();
  });

  it('a Scheduler places events through each of EventStore, Harpoon and HarpoonClient', async () => {
    for (const [name, port] of ports) {
      const fleet = new Fleet({ driver: new MemoryFleetDriver() });
      await fleet.upsert([{ id: `hv-${name}`, region: name, capacity: { cpu: 64 } }]);
      const scheduler = new Scheduler<TestSchemas>({
        store: port,
        fleet,
        region: name,
        request: (e) => ({ demand: { cpu: e.type === 'droplet.create' ? e.payload.vcpus : 1 } }),
        // EventStore and Harpoon offer `onAppended`, so an append wakes the claim loop at once: a
        // minute between idle claims shows it. Over HTTP there is no such signal.
        idlePollMs: name === 'HarpoonClient' ? 20 : 60_000,
      });
      await scheduler.start();
      try {
        const events = await store.append([create(1, { region: name }), create(2, { region: name })]);
        for (const e of events) {
          const placed = async () => {
            const now = await store.get(e.id);
            return { name, status: now?.status, serverId: now?.serverId };
          };
          await expect
            .poll(placed, { timeout: 5_000 })
            .toEqual({ name, status: 'placed', serverId: `hv-${name}` });
        }
        await scheduler.drain();
        expect(scheduler.stats().placed, name).toBe(2);
      } finally {
        await scheduler.stop();
        await fleet.close();
      }
    }
  });

  it('an OutboxRelay publishes every change it follows through each of them', async () => {
    for (const [name, port] of ports) {
      const bus = new MemoryBus({
        topology: { queues: [{ name: 'audit', bindings: [ALL_EVENTS_PATTERN] }] },
      });
      const seen = new Set<number>();
      await bus.subscribe({ queue: 'audit' }, (d) => {
        seen.add(wireEventSchema.parse(d.message.body).id);
      });
      const cursors = new MemoryCursorStore();
      await cursors.save(name, await store.head());
      const relay = new OutboxRelay({ store: port, bus, cursors, name, pollMs: 20 });
      relay.start();
      try {
        const events = await store.append([create(3, { region: name }), create(4, { region: name })]);
        await expect.poll(() => seen.size, { timeout: 10_000 }).toBe(2);
        expect([...seen].sort(), name).toEqual(events.map((e) => e.id).sort());
        await expect.poll(() => relay.lag(), { timeout: 10_000 }).toBe(0);
      } finally {
        await relay.stop();
        await bus.close();
      }
    }
  });
});
