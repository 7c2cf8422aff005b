/**
 * Bounded buffers: a stuck agent delays nobody and is cut off with `slow-consumer`; an agent cut
 * off that way resumes from its cursor and loses nothing.
 */
import { WsConnector } from '@ctlplane/adapters/ws';
import { describe, expect, it } from 'vitest';
import {
  cleanupAfterEach,
  expectEachRanOnce,
  hostNames,
  startWsAgents,
  startWsRouter,
} from './fixtures/router-harness.js';
import {
  countDone,
  keyring,
  Ledger,
  memoryStore,
  placeEvents,
  testAgent,
  until,
} from './fixtures/router-kit.js';
import { RawClient, TcpProxy } from './fixtures/router-net.js';

const cleanups = cleanupAfterEach();

const BLOB = 'x'.repeat(32 * 1024);

async function startRouter() {
  const store = memoryStore();
  const started = await startWsRouter({
    store,
    cleanups,
    router: { maxBufferedBytes: 256 * 1024, maxBufferedEvents: 100_000 },
    server: { closeTimeoutMs: 200 },
  });
  return { store, ...started };
}

describe('EventRouter bounded send buffers', () => {
  it('serves everyone else while one agent is stuck, then cuts the stuck one off', async () => {
    const { store, router, url } = await startRouter();
    const ledger = new Ledger();
    const servers = hostNames(5);
    await startWsAgents({ servers, url, ledger, cleanups });

    const stuck = new RawClient(url);
    await stuck.opened();
    stuck.hello(keyring().sign({ serverId: 'hv-stuck', region: 'r1' }), 'hv-stuck');
    await until(() => stuck.frames.some((f) => f.type === 'resync'), 'stuck agent welcomed');
    stuck.send({ type: 'snapshot' });
    await until(() => stuck.frames.some((f) => f.type === 'snapshot'), 'stuck agent live');
    stuck.freeze(); // never reads again

    // 12 MB for the stuck agent interleaved with small events for everyone else.
    const placed = await placeEvents(
      store,
      600,
      (i) => (i % 2 === 0 ? 'hv-stuck' : servers[i % 5]!),
      'r1',
      BLOB,
    );
    const others = placed.filter((e) => e.serverId !== 'hv-stuck');
    await until(async () => others.every((e) => ledger.runs.get(e.id) === 1), 'every other agent done');
    expect(ledger.foreign).toEqual([]);
    expect(stuck.frames.filter((f) => f.type === 'events')).toEqual([]); // it read nothing meanwhile

    await until(() => (router.stats().disconnects['slow-consumer'] ?? 0) >= 1, 'stuck agent cut off');
    expect(router.stats().agentsConnected).toBe(5);
    stuck.terminate();

    // The host's real agent comes back and gets everything that is still open.
    const revived = testAgent({ serverId: 'hv-stuck', urls: [url], connector: new WsConnector(), ledger });
    cleanups.push(() => revived.stop());
    await revived.start();
    await until(async () => (await countDone(store)) === 600, 'all 600 done');
    expectEachRanOnce(ledger, placed);
  });

  it('cuts off an agent whose network stalls; it resumes from its cursor and loses nothing', async () => {
    const { store, router, port } = await startRouter();
    const proxy = new TcpProxy({ host: '127.0.0.1', port });
    await proxy.listen();
    cleanups.push(() => proxy.close());
    const ledger = new Ledger();
    const agent = testAgent({ serverId: 'hv-1', urls: [proxy.url()], connector: new WsConnector(), ledger });
    const reasons: string[] = [];
    const resumed: boolean[] = [];
    agent.on('agent:disconnected', (e) => reasons.push(e.reason));
    agent.on('agent:connected', (e) => resumed.push(e.resumed));
    cleanups.push(() => agent.stop());
    await agent.start();
    await placeEvents(store, 20, () => 'hv-1', 'r1', BLOB);
    await until(async () => (await countDone(store)) === 20, 'first 20 done');

    proxy.stall();
    const more = await placeEvents(store, 400, () => 'hv-1', 'r1', BLOB);
    await until(() => (router.stats().disconnects['slow-consumer'] ?? 0) >= 1, 'cut off as slow');
    proxy.unstall();
    await until(async () => (await countDone(store)) === 420, 'all 420 done');
    expectEachRanOnce(ledger, more);
    expect(reasons.length).toBeGreaterThanOrEqual(1);
    expect(resumed[0]).toBe(false);
    expect(resumed.slice(1)).toContain(true); // resumed from its cursor, not a full re-read
  });
});
