/**
 * Delivery and isolation over the real WebSocket transport on 127.0.0.1, malformed frames, TLS.
 */
import { WsConnector } from '@ctlplane/adapters/ws';
import { CLOSE_CODES } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, hostNames, startWsAgents, startWsRouter } from './fixtures/router-harness.js';
import {
  countDone,
  keyring,
  Ledger,
  memoryStore,
  placeEvents,
  testAgent,
  until,
} from './fixtures/router-kit.js';
import { RawClient, selfSignedCert } from './fixtures/router-net.js';

const cleanups = cleanupAfterEach();

async function startRouter(opts: { tls?: { key: string; cert: string } } = {}) {
  const store = memoryStore();
  const server = { host: '127.0.0.1', port: 0, ...(opts.tls ? { tls: opts.tls } : {}) };
  const { router, url } = await startWsRouter({ store, cleanups, server });
  return { store, router, url };
}

describe('EventRouter over WebSocket on loopback', () => {
  it('delivers every event once, only to the agent of its server', async () => {
    const { store, router, url } = await startRouter();
    const ledger = new Ledger();
    const servers = hostNames(20);
    await startWsAgents({ servers, url, ledger, cleanups });
    const events = await placeEvents(store, 400, (i) => servers[(i * 7) % servers.length]!);
    await until(async () => (await countDone(store)) === 400, '400 events done');

    expect(ledger.foreign).toEqual([]);
    for (const e of events) {
      expect(ledger.runs.get(e.id)).toBe(1);
      expect(ledger.byServer.get(e.serverId!)).toContain(e.id);
      const stored = await store.get(e.id);
      expect(stored?.status).toBe('done');
      expect(stored?.result).toEqual({ ranOn: e.serverId });
    }
    // The last batch's commit is visible a moment before the router counts it.
    await until(() => router.stats().acks.applied === 800, '800 acks counted', 10_000);
    const stats = router.stats();
    expect(stats.agentsConnected).toBe(20);
    expect(stats.delivered).toBeGreaterThanOrEqual(400);
    expect(stats.acks.applied).toBe(800);
    // Acks are batched: far fewer store calls than acknowledgements.
    expect(stats.dbQueries.transition).toBeLessThan(800);
  });

  it('closes a connection that sends a malformed frame with protocol-error and keeps serving others', async () => {
    const { store, url } = await startRouter();
    const ledger = new Ledger();
    const good = testAgent({ serverId: 'good', urls: [url], connector: new WsConnector(), ledger });
    cleanups.push(() => good.stop());
    await good.start();

    const cases: unknown[] = [
      'not json at all',
      { type: 'hello', protocol: 1 },
      { type: 'ack', acks: [{ id: 1, status: 'done' }] },
      { type: 'nonsense' },
    ];
    for (const frame of cases) {
      const raw = new RawClient(url);
      await raw.opened();
      raw.send(frame);
      await until(() => raw.closed !== null, 'close');
      expect(raw.closed?.code).toBe(CLOSE_CODES['protocol-error']);
      expect(raw.closed?.reason.length).toBeGreaterThan(0);
      expect(raw.frames).toEqual([]);
    }
    // An authenticated agent that then sends garbage is cut off too; nothing else is affected.
    const raw = new RawClient(url);
    await raw.opened();
    raw.hello(keyring().sign({ serverId: 'bad', region: 'r1' }), 'bad');
    await until(() => raw.frames.some((f) => f.type === 'welcome'), 'welcome');
    raw.send({ type: 'ack', acks: [{ id: 'x', status: 'done' }] });
    await until(() => raw.closed !== null, 'close');
    expect(raw.closed).toMatchObject({ code: CLOSE_CODES['protocol-error'] });

    await placeEvents(store, 10, () => 'good');
    await until(async () => (await countDone(store)) === 10, 'good agent still served');
    expect(ledger.total).toBe(10);
  });

  it('serves agents over TLS when given https server options', async () => {
    const tls = selfSignedCert();
    const { store, url } = await startRouter({ tls });
    expect(url.startsWith('wss://127.0.0.1:')).toBe(true);
    const ledger = new Ledger();
    const agent = testAgent({
      serverId: 'tls-1',
      urls: [url],
      connector: new WsConnector({ tls: { ca: tls.cert } }),
      ledger,
    });
    cleanups.push(() => agent.stop());
    await agent.start();
    await placeEvents(store, 5, () => 'tls-1');
    await until(async () => (await countDone(store)) === 5, 'done over TLS');

    // A client that does not trust the certificate never gets in.
    const untrusting = testAgent({
      serverId: 'tls-2',
      urls: [url],
      connector: new WsConnector(),
      ledger,
      connectTimeoutMs: 2_000,
    });
    const events: string[] = [];
    untrusting.on('agent:disconnected', (e) => events.push(e.reason));
    void untrusting.start().catch(() => {});
    await until(() => events.length >= 2, 'two failed attempts');
    expect(untrusting.connected).toBe(false);
    await untrusting.stop();
  });
});
