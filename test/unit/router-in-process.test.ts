import { MemoryBus, MemoryCursorStore } from '@ctlplane/adapters/memory';
import {
  BusInput,
  CLOSE_CODES,
  EventRouter,
  Harpoon,
  InProcessTransport,
  StorePollInput,
} from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  countDone,
  keyring,
  Ledger,
  memoryStore,
  placeEvents,
  testAgent,
  until,
} from '../integration/fixtures/router-kit.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('EventRouter over the in-process transport', () => {
  it('delivers each event only to its server and applies acks in batches', async () => {
    const store = memoryStore();
    const transport = new InProcessTransport();
    const router = new EventRouter({ store, region: 'r1', auth: keyring(), input: undefined });
    await router.listen(transport.server('r1'));
    cleanups.push(() => router.close());
    const ledger = new Ledger();
    const agents = ['a', 'b', 'c'].map((s) =>
      testAgent({ serverId: s, urls: ['inproc://r1'], connector: transport, ledger }),
    );
    for (const a of agents) cleanups.push(() => a.stop());
    await Promise.all(agents.map((a) => a.start()));
    const events = await placeEvents(store, 60, (i) => ['a', 'b', 'c'][i % 3]!);
    await until(async () => (await countDone(store)) === 60, 'all done');
    expect(ledger.foreign).toEqual([]);
    expect(ledger.total).toBe(60);
    for (const e of events) expect(ledger.runs.get(e.id)).toBe(1);
    const stats = router.stats();
    expect(stats.acks.applied).toBe(120);
    expect(stats.dbQueries.transition).toBeLessThan(120);
    expect(stats.agentsConnected).toBe(3);
  });
});

describe('EventRouter limits and events', () => {
  async function setup(options: Partial<ConstructorParameters<typeof EventRouter>[0]> = {}) {
    const store = memoryStore();
    const transport = new InProcessTransport();
    const router = new EventRouter({
      store,
      region: 'r1',
      auth: keyring(),
      input: new StorePollInput({ store, pollMs: 10 }),
      ...options,
    });
    await router.listen(transport.server('r1'));
    cleanups.push(() => router.close());
    const agent = (serverId: string, extra: Partial<Parameters<typeof testAgent>[0]> = {}) => {
      const a = testAgent({
        serverId,
        urls: ['inproc://r1'],
        connector: transport,
        ledger: new Ledger(),
        ...extra,
      });
      cleanups.push(() => a.stop());
      return a;
    };
    return { store, transport, router, agent };
  }

  it('passes heartbeat metrics to the sink and as a typed event', async () => {
    const reported: Array<[string, Record<string, number>]> = [];
    const { router, agent } = await setup({ onMetrics: (id, m) => reported.push([id, { ...m }]) });
    const beats: string[] = [];
    router.on('router:agent:heartbeat', (e) => beats.push(e.serverId));
    const a = agent('hv-1', { metrics: () => ({ cpuFree: 3, memFreeMb: 2048 }) });
    await a.start();
    await until(() => reported.length > 0, 'a heartbeat');
    expect(reported[0]).toEqual(['hv-1', { cpuFree: 3, memFreeMb: 2048 }]);
    expect(beats[0]).toBe('hv-1');
  });

  it('refuses agents past maxAgents with capacity, and replaces a second connection of one server', async () => {
    const { router, agent } = await setup({ maxAgents: 2 });
    const rejected: string[] = [];
    router.on('router:agent:rejected', (e) => rejected.push(e.reason));
    await agent('hv-1').start();
    await agent('hv-2').start();
    const third = agent('hv-3', { backoff: { initialMs: 1_000, maxMs: 1_000 } });
    void third.start().catch(() => {});
    await until(() => rejected.includes('capacity'), 'capacity refusal');
    const again = agent('hv-1');
    await again.start();
    await until(() => (router.stats().disconnects.replaced ?? 0) === 1, 'old session replaced');
    expect(router.stats().agentsConnected).toBe(2);
  });

  it('closes connections that never say hello, and agents that fall silent', async () => {
    const { router, transport } = await setup({ helloTimeoutMs: 100, heartbeatMs: 100, idleTimeoutMs: 300 });
    const silent = await transport.connect('inproc://r1');
    let closed: [number, string] | null = null;
    silent.bind({ message: () => {}, closed: (code, reason) => (closed = [code, reason]) });
    await until(() => closed !== null, 'hello timeout');
    expect(closed![0]).toBe(CLOSE_CODES['hello-timeout']);

    const mute = await transport.connect('inproc://r1');
    let muteClosed: number | null = null;
    mute.bind({ message: () => {}, closed: (code) => (muteClosed = code) });
    mute.send(
      JSON.stringify({
        type: 'hello',
        protocol: 1,
        token: keyring().sign({ serverId: 'm', region: 'r1' }),
        serverId: 'm',
        cursor: null,
      }),
    );
    await until(() => muteClosed !== null, 'idle timeout');
    expect(muteClosed).toBe(CLOSE_CODES['idle-timeout']);
    expect(router.stats().disconnects['idle-timeout']).toBe(1);
  });

  it('answers a resync from the store when its open set is incomplete', async () => {
    const { store, router, agent } = await setup({ maxOpenEvents: 5 });
    await placeEvents(store, 20, () => 'hv-9');
    await until(() => router.stats().openEvents.complete === false, 'open set overflows');
    const ledger = new Ledger();
    const a = agent('hv-9', { ledger });
    await a.start();
    await until(async () => (await countDone(store)) === 20, 'all done');
    expect(router.stats().resyncs).toEqual({ total: 1, fromStore: 1 });
    expect(router.stats().dbQueries.query).toBeGreaterThanOrEqual(2);
  });

  it('resyncs an agent whose cursor is older than the history', async () => {
    const { store, router, agent } = await setup({ historySize: 5 });
    const ledger = new Ledger();
    const a = agent('hv-1', { ledger, cursor: 0 });
    const reasons: string[] = [];
    a.on('agent:resync', (e) => reasons.push(e.reason));
    await placeEvents(store, 30, () => 'hv-2');
    await placeEvents(store, 3, () => 'hv-1');
    await until(() => router.stats().history.oldest > 0, 'history moved past cursor 0');
    await a.start();
    await until(() => ledger.total === 3, 'its 3 events');
    expect(reasons).toEqual(['too-old']);
  });

  it('validates its options, naming the field', () => {
    const store = memoryStore();
    expect(() => new EventRouter({ store, region: '', auth: keyring() })).toThrow(/region/);
    expect(() => new EventRouter({ store, region: 'r', auth: keyring(), maxBufferedEvents: 0 })).toThrow(
      /maxBufferedEvents/,
    );
    expect(() => new EventRouter({ store, region: 'r', auth: {} as never })).toThrow(/auth/);
  });
});

describe('EventRouter behind Harpoon', () => {
  it('reads, acknowledges and is pushed changes through Harpoon: no database access of its own', async () => {
    const store = memoryStore();
    const bus = new MemoryBus();
    const harpoon = new Harpoon({ store, bus, cursors: new MemoryCursorStore() }).start();
    const transport = new InProcessTransport();
    const router = new EventRouter({
      store: harpoon,
      region: 'r1',
      auth: keyring(),
      input: new BusInput({ bus }),
    });
    await router.listen(transport.server('r1'));
    cleanups.push(async () => {
      await router.close();
      await harpoon.close();
      await bus.close();
    });
    const ledger = new Ledger();
    const agent = testAgent({ serverId: 'hv-1', urls: ['inproc://r1'], connector: transport, ledger });
    cleanups.push(() => agent.stop());
    await agent.start();
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        harpoon.create({ type: 'vm.create', payload: { n }, region: 'r1', serverId: 'hv-1' }),
      ),
    );
    await until(async () => (await countDone(store)) === 20, 'all done');
    for (const e of created) expect(ledger.runs.get(e.id)).toBe(1);
    const stats = router.stats();
    expect(stats.input).toBe('bus');
    expect(stats.dbQueries.readFeed).toBeLessThanOrEqual(1); // the start-up catch-up only
  });
});
