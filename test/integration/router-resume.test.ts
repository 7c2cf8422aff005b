/**
 * Resume with nothing lost: after a network drop (history replay), after a router restart
 * (resync), on failover between router replicas, and after an agent process restart.
 */
import { WsConnector } from '@ctlplane/adapters/ws';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, expectEachRanOnce, startWsRouter } from './fixtures/router-harness.js';
import { countDone, Ledger, memoryStore, placeEvents, testAgent, until } from './fixtures/router-kit.js';
import { TcpProxy } from './fixtures/router-net.js';

const cleanups = cleanupAfterEach();

type Store = ReturnType<typeof memoryStore>;

function startRouter(store: Store, port = 0) {
  return startWsRouter({ store, cleanups, server: { port } });
}

describe('EventRouter resume', () => {
  it('resumes an agent from its cursor after a network drop, replaying only what it missed', async () => {
    const store = memoryStore();
    const { port } = await startRouter(store);
    const proxy = new TcpProxy({ host: '127.0.0.1', port });
    await proxy.listen();
    cleanups.push(() => proxy.close());
    const ledger = new Ledger();
    const agent = testAgent({ serverId: 'hv-1', urls: [proxy.url()], connector: new WsConnector(), ledger });
    const connects: boolean[] = [];
    agent.on('agent:connected', (e) => connects.push(e.resumed));
    cleanups.push(() => agent.stop());
    await agent.start();

    const first = await placeEvents(store, 50, () => 'hv-1');
    await until(async () => (await countDone(store)) === 50, 'first 50 done');
    for (let round = 0; round < 3; round++) {
      proxy.cut();
      await placeEvents(store, 50, () => 'hv-1');
    }
    await until(async () => (await countDone(store)) === 200, 'all 200 done');
    const all = (await store.query({ region: 'r1', limit: 1000 })).events.map((e) => e.id);
    expectEachRanOnce(ledger, all);
    expect(first.length).toBe(50);
    expect(connects[0]).toBe(false); // fresh start: re-read open events
    expect(connects.slice(1).length).toBeGreaterThanOrEqual(1);
    expect(connects.slice(1).every((r) => r)).toBe(true); // every reconnect resumed from history
  });

  it('loses nothing across a router restart: the agent resyncs from the new router', async () => {
    const store = memoryStore();
    const a = await startRouter(store);
    const ledger = new Ledger();
    const agent = testAgent({ serverId: 'hv-1', urls: [a.url], connector: new WsConnector(), ledger });
    const resyncs: string[] = [];
    agent.on('agent:resync', (e) => resyncs.push(e.reason));
    cleanups.push(() => agent.stop());
    await agent.start();
    await placeEvents(store, 30, () => 'hv-1');
    await until(async () => (await countDone(store)) === 30, 'first 30 done');

    await a.router.close();
    await placeEvents(store, 30, () => 'hv-1'); // while no router runs
    const b = await startRouter(store, a.port);
    await until(async () => (await countDone(store)) === 60, 'all 60 done');
    await placeEvents(store, 30, () => 'hv-1');
    await until(async () => (await countDone(store)) === 90, 'all 90 done');
    const all = (await store.query({ region: 'r1', limit: 1000 })).events.map((e) => e.id);
    expectEachRanOnce(ledger, all);
    expect(resyncs).toEqual(['fresh', 'too-old']);
    expect(b.router.stats().resyncs).toEqual({ total: 1, fromStore: 0 });
  });

  it('fails over to another replica of the region when its router dies', async () => {
    const store = memoryStore();
    const a = await startRouter(store);
    const b = await startRouter(store);
    const ledger = new Ledger();
    const agent = testAgent({ serverId: 'hv-1', urls: [a.url, b.url], connector: new WsConnector(), ledger });
    const routers: string[] = [];
    agent.on('agent:connected', () => routers.push(agent.routerId!));
    cleanups.push(() => agent.stop());
    await agent.start();
    await placeEvents(store, 40, () => 'hv-1');
    await until(async () => (await countDone(store)) === 40, 'first 40 done');
    await a.router.close();
    await placeEvents(store, 40, () => 'hv-1');
    await until(async () => (await countDone(store)) === 80, 'all 80 done');
    expect(routers).toEqual([a.router.id, b.router.id]);
    const all = (await store.query({ region: 'r1', limit: 1000 })).events.map((e) => e.id);
    expectEachRanOnce(ledger, all);
    expect(b.router.stats().agentsConnected).toBe(1);
  });

  it('re-runs work a stopped agent left running, flagged as a redelivery', async () => {
    const store = memoryStore();
    const { url } = await startRouter(store);
    const ledger = new Ledger();
    let release!: () => void;
    const blocked = new Promise<void>((r) => {
      release = r;
    });
    const first = testAgent({
      serverId: 'hv-1',
      urls: [url],
      connector: new WsConnector(),
      ledger,
      handle: () => blocked,
    });
    await first.start();
    const [event] = await placeEvents(store, 1, () => 'hv-1');
    await until(async () => (await store.get(event!.id))?.status === 'running', 'running');
    await first.stop(); // the host process dies mid-work
    release();

    const second = testAgent({ serverId: 'hv-1', urls: [url], connector: new WsConnector(), ledger });
    cleanups.push(() => second.stop());
    await second.start();
    await until(async () => (await store.get(event!.id))?.status === 'done', 'done by the new agent');
    expect(ledger.runs.get(event!.id)).toBe(2);
    expect(ledger.redeliveries).toEqual([event!.id]);
  });
});
