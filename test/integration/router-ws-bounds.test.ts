/**
 * The router under the attacks of issue 13 on agent frames, over real sockets on 127.0.0.1: a
 * deeply nested frame before any hello (finding 1), an agent that stops reading in resync-wait and
 * floods (finding 4), and a welcomed agent that floods frames faster than its rate.
 */
import type { EventRouter } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, startWsAgents, startWsRouter } from './fixtures/router-harness.js';
import { countDone, keyring, Ledger, memoryStore, placeEvents, until } from './fixtures/router-kit.js';
import { RawClient } from './fixtures/router-net.js';

const cleanups = cleanupAfterEach();

function slowConsumers(router: EventRouter): () => number {
  let n = 0;
  router.on('router:agent:disconnected', (e) => {
    if (e.reason === 'slow-consumer') n++;
  });
  return () => n;
}

describe('EventRouter WebSocket port bounds', () => {
  it('regression(13.1): a 1,700-deep ack before any hello closes with 4004; the router serves on', async () => {
    const store = memoryStore();
    const { url } = await startWsRouter({ store, cleanups });
    const raw = new RawClient(url);
    await raw.opened();
    const depth = 1_700;
    raw.send(
      `{"type":"ack","acks":[{"id":1,"status":"done","result":${'['.repeat(depth)}${']'.repeat(depth)}}]}`,
    );
    await until(() => raw.closed !== null, 'the router closes the connection');
    expect(raw.closed).toEqual({
      code: 4004,
      reason: 'frame must not nest deeper than 1 levels before hello',
    });
    const ledger = new Ledger();
    await startWsAgents({ servers: ['hv-good'], url, ledger, cleanups });
    await placeEvents(store, 3, () => 'hv-good');
    await until(async () => (await countDone(store)) === 3, 'a good agent is served');
  });

  it('regression(13.4): cuts off an agent in resync-wait that stops reading and floods', async () => {
    const store = memoryStore();
    const { router, url } = await startWsRouter({
      store,
      cleanups,
      // The frame rate is not what this test is about: the flood must reach the send limit.
      router: { maxBufferedBytes: 64 * 1024, maxFramesPerSecond: 1_000_000 },
      server: { closeTimeoutMs: 200 },
    });
    const cut = slowConsumers(router);
    const [foreign] = await placeEvents(store, 1, () => 'hv-other');
    await until(async () => router.stats().cursor === (await store.head()), 'the router caught up');
    const raw = new RawClient(url);
    await raw.opened();
    raw.hello(keyring().sign({ serverId: 'hv-flood', region: 'r1' }), 'hv-flood');
    await until(() => raw.frames.some((f) => f.type === 'resync'), 'told to resync');
    raw.freeze(); // never asks for the snapshot, never reads again
    // Each frame asks for ~90 KB of answers: 1,000 refusals of another server's event, and a pong.
    const acks = JSON.stringify({
      type: 'ack',
      acks: Array(1_000).fill({ id: foreign!.id, status: 'running' }),
    });
    const deadline = Date.now() + 20_000;
    let sent = 0;
    while (cut() === 0 && Date.now() < deadline && sent < 2_000) {
      raw.send(acks);
      raw.send({ type: 'heartbeat', at: sent++, metrics: {} });
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => cut() === 1, 'the flooding agent cut off with slow-consumer', 5_000);
    expect(router.stats().disconnects['slow-consumer']).toBe(1);
    raw.terminate();
  });

  it('closes a welcomed agent that sends frames faster than maxFramesPerSecond with rate-limited (4012)', async () => {
    const store = memoryStore();
    const { router, url } = await startWsRouter({
      store,
      cleanups,
      router: { maxFramesPerSecond: 100 },
      server: { closeTimeoutMs: 500 },
    });
    const raw = new RawClient(url);
    await raw.opened();
    raw.hello(keyring().sign({ serverId: 'hv-flood', region: 'r1' }), 'hv-flood');
    await until(() => raw.frames.some((f) => f.type === 'welcome'), 'welcomed');
    for (let i = 0; i < 2_000; i++) raw.send({ type: 'heartbeat', at: i, metrics: {} });
    await until(() => raw.closed !== null, 'the router closes the connection');
    // The close frame reaches it before anything else happens to the connection.
    expect(raw.closed).toEqual({ code: 4012, reason: 'more than 100 frames per second' });
    expect(raw.frames.filter((f) => f.type === 'pong').length).toBeLessThanOrEqual(100);
    expect(router.stats().disconnects['rate-limited']).toBe(1);
  });
});
