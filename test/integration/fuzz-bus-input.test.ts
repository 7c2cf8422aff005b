/**
 * The router's BusInput under fuzzing, on the memory bus: message bodies that are not changed
 * events (one field broken, a field missing, any other JSON) are dead-lettered and reported, and
 * change nothing in the router; a real change still reaches its agent afterwards.
 */
import { MemoryBus, MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import {
  Agent,
  AgentKeyring,
  BusInput,
  EventRouter,
  EventStore,
  eventRoutingKey,
  InProcessTransport,
  type StoredEvent,
  StorePollInput,
  toWireEvent,
} from '@ctlplane/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { notAChange, wireEvent } from './fixtures/security-bus.js';
import { fuzzParams, Tally, until } from './fixtures/security-kit.js';

const RUNS = 1_000;

describe('EventRouter BusInput under fuzzing (memory bus)', () => {
  const keyring = new AgentKeyring({
    keys: [{ kid: 'k1', secret: 'bus-fuzz-signing-key-0123456789abcdef' }],
  });
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const bus = new MemoryBus();
  const router = new EventRouter({ store, region: 'r1', auth: keyring, input: new BusInput({ bus }) });
  const transport = new InProcessTransport();
  const ran = new Set<number>();
  const agent = new Agent<TestSchemas>({
    serverId: 'good',
    token: keyring.sign({ serverId: 'good', region: 'r1' }),
    urls: ['inproc://r1'],
    connector: transport,
    handlers: { 'droplet.create': (e) => void ran.add(e.id) },
    backoff: { initialMs: 10, maxMs: 100 },
  });
  const errors: Error[] = [];
  router.on('router:input:error', (e) => errors.push(e.error));
  /** What Harpoon's relay does: publish each changed event on the bus. */
  const relay = (events: readonly StoredEvent[]) =>
    bus.publishMany(
      events.map((e) => ({
        routingKey: eventRoutingKey(e),
        body: toWireEvent(e),
        id: `event:${e.id}:v${e.version}`,
      })),
    );

  beforeAll(async () => {
    await router.listen(transport.server('r1'));
    await agent.start();
  });
  afterAll(async () => {
    await agent.stop();
    await router.close();
    await bus.close();
    await store.close();
  });

  it(`reports and drops ${RUNS} bodies that are not changed events, changing nothing`, async () => {
    const tally = new Tally('router BusInput (memory bus)');
    const before = router.stats();
    const key = eventRoutingKey({ type: 'droplet.create', region: 'r1', serverId: 'fz' });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(notAChange('r1'), async (body) => {
        await bus.publish({ routingKey: key, body: body as never, id: `fuzz:${n++}` });
        tally.add('reported');
      }),
      fuzzParams(RUNS),
    );
    await until(() => errors.length >= tally.total, 'every bad body reported');
    tally.print();
    expect(errors).toHaveLength(tally.total);
    for (const e of errors) expect(e.message).toMatch(/is not a changed event/);
    const after = router.stats();
    expect(after.cursor).toBe(before.cursor);
    expect(after.delivered).toBe(before.delivered);
    expect(after.openEvents).toEqual(before.openEvents);
    // A real change still reaches its agent.
    const events = await store.append([create(1, { region: 'r1', serverId: 'good' })]);
    await relay(events);
    await until(async () => (await store.get(events[0]!.id))?.status === 'done', 'the real change ran');
    expect(ran.has(events[0]!.id)).toBe(true);
  });

  it('a change with an absurd feed position does not stall the router when it switches back to polling', async () => {
    // Well formed, but for an event that does not exist, at a feed position far beyond the head.
    const forged = wireEvent(9_000_000, Number.MAX_SAFE_INTEGER, 'r1', 'ghost');
    await bus.publish({
      routingKey: eventRoutingKey({ type: 'droplet.create', region: 'r1', serverId: 'ghost' }),
      body: forged as never,
    });
    // A barrier: a real change published after it reaches its agent, so the forged one was taken in.
    const real = await store.append([create(3, { region: 'r1', serverId: 'good' })]);
    await relay(real);
    await until(() => ran.has(real[0]!.id), 'a real change after the forged one');
    const cursor = router.stats().cursor;
    // Back to polling the store: the catch-up reads the feed after the router's cursor.
    await router.useInput(new StorePollInput({ store, pollMs: 20 }));
    const [e] = await store.append([create(2, { region: 'r1', serverId: 'good' })]);
    const ranIt = await until(() => ran.has(e!.id), 'a new event delivered after the switch', 3_000).then(
      () => true,
      () => false,
    );
    expect({
      cursorAfterForgedChange: cursor,
      storeHead: await store.head(),
      delivered: ranIt,
    }).toMatchObject({
      delivered: true,
    });
  });
});
