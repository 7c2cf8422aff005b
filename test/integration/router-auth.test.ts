/**
 * Authorization over WebSocket: forged, expired, cross-server and other-region tokens get nothing
 * and a clear close reason; key rotation; agents cannot acknowledge another server's events;
 * secrets and tokens never reach the logs.
 */
import { WsConnector, WsTransportServer } from '@ctlplane/adapters/ws';
import {
  AgentKeyring,
  CLOSE_CODES,
  EventRouter,
  isCtlplaneError,
  type Logger,
  StorePollInput,
} from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  countDone,
  keyring,
  Ledger,
  memoryStore,
  placeEvents,
  SECRET,
  testAgent,
  until,
} from './fixtures/router-kit.js';
import { RawClient } from './fixtures/router-net.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function capturingLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string, fields?: object) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

async function startRouter(auth: AgentKeyring, logger?: Logger) {
  const store = memoryStore();
  const router = new EventRouter({
    store,
    region: 'r1',
    auth,
    input: new StorePollInput({ store, pollMs: 20 }),
    ...(logger ? { logger } : {}),
  });
  const server = new WsTransportServer();
  await router.listen(server);
  cleanups.push(() => router.close());
  return { store, router, url: server.url };
}

/** Connect raw with `token` claiming `serverId`; resolve with the close and every frame seen. */
async function attempt(url: string, token: string, serverId: string) {
  const raw = new RawClient(url);
  await raw.opened();
  raw.hello(token, serverId);
  await until(() => raw.closed !== null, 'refusal');
  return { closed: raw.closed!, frames: raw.frames };
}

describe('agent authorization', () => {
  it('refuses forged, expired, cross-server and other-region tokens with a clear reason', async () => {
    const lines: string[] = [];
    const auth = keyring();
    const { store, router, url } = await startRouter(auth, capturingLogger(lines));
    await placeEvents(store, 5, () => 'hv-1');

    const forger = new AgentKeyring({ keys: [{ kid: 'k1', secret: 'an-attacker-guess-0123456789abcdef' }] });
    const forged = forger.sign({ serverId: 'hv-1', region: 'r1' });
    const past = keyring(() => Date.now() - 3_600_000);
    const expired = past.sign({ serverId: 'hv-1', region: 'r1', ttlMs: 60_000 });
    const otherServer = auth.sign({ serverId: 'hv-2', region: 'r1' });
    const otherRegion = auth.sign({ serverId: 'hv-1', region: 'r2' });
    const [body] = auth.sign({ serverId: 'hv-1', region: 'r1' }).split('.').slice(2);
    const tampered = `ctl1.k1.${Buffer.from('{"sub":"hv-1","reg":"r1","iat":0,"exp":99999999999999}').toString('base64url')}.${body}`;

    const cases: Array<[string, string, number, RegExp]> = [
      [forged, 'hv-1', CLOSE_CODES.unauthorized, /signature/],
      [tampered, 'hv-1', CLOSE_CODES.unauthorized, /signature/],
      ['garbage', 'hv-1', CLOSE_CODES.unauthorized, /malformed/],
      [expired, 'hv-1', CLOSE_CODES['token-expired'], /expired/],
      [otherServer, 'hv-1', CLOSE_CODES.forbidden, /another server/],
      [otherRegion, 'hv-1', CLOSE_CODES.forbidden, /region r2/],
    ];
    for (const [token, serverId, code, reason] of cases) {
      const r = await attempt(url, token, serverId);
      expect(r.closed.code).toBe(code);
      expect(r.closed.reason).toMatch(reason);
      expect(r.frames).toEqual([]); // not even a welcome: nothing about hv-1's events
    }
    const stats = router.stats();
    expect(stats.agentsConnected).toBe(0);
    expect(stats.delivered).toBe(0);
    expect(stats.disconnects.unauthorized).toBe(3);
    expect(stats.disconnects['token-expired']).toBe(1);
    expect(stats.disconnects.forbidden).toBe(2);
    // Neither secrets nor tokens are ever logged.
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of [SECRET, forged, expired, otherServer, otherRegion, tampered])
      expect(all).not.toContain(secret);
  });

  it('stops an Agent whose fixed token is refused, with an UnauthorizedError', async () => {
    const { url } = await startRouter(keyring());
    const ledger = new Ledger();
    const forger = new AgentKeyring({ keys: [{ kid: 'k1', secret: 'an-attacker-guess-0123456789abcdef' }] });
    const agent = testAgent({
      serverId: 'hv-1',
      urls: [url],
      connector: new WsConnector(),
      ledger,
      keys: forger,
    });
    const rejected: string[] = [];
    agent.on('agent:rejected', (e) => rejected.push(e.reason));
    const err = await agent.start().catch((e: unknown) => e);
    expect(isCtlplaneError(err, 'UNAUTHORIZED')).toBe(true);
    expect(rejected).toEqual(['unauthorized']);
    await agent.stop();
  });

  it('rotates keys: new tokens verify at once, old ones until their key is removed', async () => {
    const auth = new AgentKeyring({ keys: [{ kid: 'old', secret: 'o'.repeat(40) }] });
    const { url } = await startRouter(auth);
    const oldToken = auth.sign({ serverId: 'hv-1', region: 'r1' });
    auth.setKeys(
      [
        { kid: 'new', secret: 'n'.repeat(40) },
        { kid: 'old', secret: 'o'.repeat(40) },
      ],
      'new',
    );
    const newToken = auth.sign({ serverId: 'hv-2', region: 'r1' });
    expect(newToken.split('.')[1]).toBe('new');
    for (const [token, serverId] of [
      [oldToken, 'hv-1'],
      [newToken, 'hv-2'],
    ] as const) {
      const raw = new RawClient(url);
      await raw.opened();
      raw.hello(token, serverId);
      await until(() => raw.frames.some((f) => f.type === 'welcome'), 'welcome');
      raw.terminate();
    }
    auth.setKeys([{ kid: 'new', secret: 'n'.repeat(40) }]);
    const r = await attempt(url, oldToken, 'hv-1');
    expect(r.closed.code).toBe(CLOSE_CODES.unauthorized);
    expect(r.closed.reason).toMatch(/unknown key/);
    expect(JSON.stringify(auth)).not.toContain('n'.repeat(40));
  });

  it('refuses acknowledgements of another server’s events', async () => {
    const auth = keyring();
    const { store, router, url } = await startRouter(auth);
    const ledger = new Ledger();
    const victim = testAgent({
      serverId: 'hv-victim',
      urls: [url],
      connector: new WsConnector(),
      ledger,
      handle: () => new Promise(() => {}), // never finishes: the event stays running
    });
    cleanups.push(() => victim.stop());
    await victim.start();
    const [event] = await placeEvents(store, 1, () => 'hv-victim');
    await until(async () => (await store.get(event!.id))?.status === 'running', 'victim runs it');

    const raw = new RawClient(url);
    await raw.opened();
    raw.hello(auth.sign({ serverId: 'hv-attacker', region: 'r1' }), 'hv-attacker');
    await until(() => raw.frames.some((f) => f.type === 'welcome'), 'welcome');
    raw.send({ type: 'ack', acks: [{ id: event!.id, status: 'done', result: { owned: true } }] });
    await until(() => raw.frames.some((f) => f.type === 'acked'), 'answer');
    const answer = raw.frames.find((f) => f.type === 'acked') as { results: Array<Record<string, unknown>> };
    expect(answer.results).toEqual([
      expect.objectContaining({ id: event!.id, ok: false, code: 'UNAUTHORIZED' }),
    ]);
    expect((await store.get(event!.id))?.status).toBe('running');
    expect(router.stats().acks.refused).toBe(1);
    raw.terminate();
    expect(await countDone(store)).toBe(0);
  });
});
