/**
 * Authorization matrix of the router's agent protocol over WebSocket: no token, expired, not yet
 * valid, forged, tampered, unknown or rotated-out key, another router deployment's key, another
 * server's and another region's token, a Harpoon service token, and acknowledging another
 * server's event. Each case is its own test and asserts the close code and reason; none of them
 * is sent a single event.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { WsConnector, WsTransportServer } from '@ctlplane/adapters/ws';
import {
  Agent,
  AgentKeyring,
  CLOSE_CODES,
  EventRouter,
  EventStore,
  isCtlplaneError,
  StorePollInput,
} from '@ctlplane/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { RecordingLogger, until } from './fixtures/security-kit.js';
import { RawAgent } from './fixtures/security-ws.js';

const SECRET = 'authz-router-signing-key-0123456789abcdef';
const NEW_SECRET = 'authz-router-next-signing-key-0123456789';
const OLD_SECRET = 'authz-router-retired-signing-key-01234567';

describe('EventRouter agent authorization matrix (WebSocket)', () => {
  const log = new RecordingLogger('router');
  const keyring = new AgentKeyring({
    keys: [
      { kid: 'k1', secret: SECRET },
      { kid: 'k2', secret: NEW_SECRET },
    ],
  });
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const router = new EventRouter({
    store,
    region: 'r1',
    auth: keyring,
    input: new StorePollInput({ store, pollMs: 20 }),
    logger: log,
    helloTimeoutMs: 300,
  });
  const server = new WsTransportServer();
  const used: string[] = [];
  let url = '';

  beforeAll(async () => {
    await router.listen(server);
    url = server.url;
    await store.append([
      create(1, { region: 'r1', serverId: 'hv-1' }),
      create(2, { region: 'r1', serverId: 'hv-2' }),
    ]);
  });
  afterAll(async () => {
    await router.close();
    await store.close();
    // No token, no secret ever reached the router's log.
    const text = log.text();
    for (const s of [SECRET, NEW_SECRET, OLD_SECRET, ...used]) expect(text).not.toContain(s);
  });

  const sign = (k: AgentKeyring, claims: { serverId: string; region: string; ttlMs?: number }): string => {
    const t = k.sign(claims);
    used.push(t);
    return t;
  };

  /** Send `frame` as the first frame; expect the close code and reason, and no event. */
  async function refused(frame: unknown, code: number, reason: RegExp): Promise<void> {
    const before = router.stats().delivered;
    const raw = new RawAgent(url);
    await raw.opened();
    raw.send(frame);
    expect(await raw.waitFor(() => raw.closed !== null)).toBe(true);
    expect(raw.closed?.code).toBe(code);
    expect(raw.closed?.reason).toMatch(reason);
    expect(raw.frames).toEqual([]); // not even a welcome
    expect(router.stats().delivered).toBe(before);
  }
  const hello = (token: unknown, serverId = 'hv-1') => ({
    type: 'hello',
    protocol: 1,
    token,
    serverId,
    cursor: null,
  });

  it('closes a connection that never says hello (hello-timeout)', async () => {
    const raw = new RawAgent(url);
    await raw.opened();
    expect(await raw.waitFor(() => raw.closed !== null, 5_000)).toBe(true);
    expect(raw.closed?.code).toBe(CLOSE_CODES['hello-timeout']);
    expect(raw.frames).toEqual([]);
  });
  it('refuses a hello with no token', () =>
    refused({ type: 'hello', protocol: 1, serverId: 'hv-1', cursor: null }, 4004, /token/));
  it('refuses a hello with an empty token', () => refused(hello(''), CLOSE_CODES['protocol-error'], /token/));
  it('refuses a malformed token', () => refused(hello('not-a-token'), CLOSE_CODES.unauthorized, /malformed/));
  it('refuses an expired token', () => {
    const past = new AgentKeyring({
      keys: [{ kid: 'k1', secret: SECRET }],
      now: () => Date.now() - 3_600_000,
    });
    return refused(
      hello(sign(past, { serverId: 'hv-1', region: 'r1', ttlMs: 60_000 })),
      CLOSE_CODES['token-expired'],
      /expired/,
    );
  });
  it('refuses a token that is not valid yet (issued in the future beyond the clock skew)', () => {
    const future = new AgentKeyring({
      keys: [{ kid: 'k1', secret: SECRET }],
      now: () => Date.now() + 3_600_000,
    });
    return refused(
      hello(sign(future, { serverId: 'hv-1', region: 'r1' })),
      CLOSE_CODES['token-expired'],
      /not valid yet/,
    );
  });
  it('refuses a forged token (right kid, guessed secret)', () => {
    const forger = new AgentKeyring({ keys: [{ kid: 'k1', secret: 'an-attacker-guess-0123456789abcdef' }] });
    return refused(
      hello(sign(forger, { serverId: 'hv-1', region: 'r1' })),
      CLOSE_CODES.unauthorized,
      /signature/,
    );
  });
  it('refuses a token whose claims were changed after signing', () => {
    const [p, kid, , mac] = sign(keyring, { serverId: 'hv-2', region: 'r1' }).split('.');
    const claims = Buffer.from(
      JSON.stringify({ sub: 'hv-1', reg: 'r1', iat: Date.now(), exp: Date.now() + 60_000 }),
    ).toString('base64url');
    return refused(hello(`${p}.${kid}.${claims}.${mac}`), CLOSE_CODES.unauthorized, /signature/);
  });
  it('refuses a token signed with a key id the router does not know', () => {
    const stranger = new AgentKeyring({ keys: [{ kid: 'k9', secret: SECRET }] });
    return refused(
      hello(sign(stranger, { serverId: 'hv-1', region: 'r1' })),
      CLOSE_CODES.unauthorized,
      /unknown key/,
    );
  });
  it("refuses a token from another router deployment's keyring", () => {
    const elsewhere = new AgentKeyring({
      keys: [{ kid: 'k1', secret: 'another-deployment-key-0123456789abcdef' }],
    });
    return refused(
      hello(sign(elsewhere, { serverId: 'hv-1', region: 'r1' })),
      CLOSE_CODES.unauthorized,
      /signature/,
    );
  });
  it("refuses another server's token (claiming hv-1 with hv-2's token)", () =>
    refused(
      hello(sign(keyring, { serverId: 'hv-2', region: 'r1' }), 'hv-1'),
      CLOSE_CODES.forbidden,
      /another server/,
    ));
  it("refuses another region's token", () =>
    refused(hello(sign(keyring, { serverId: 'hv-1', region: 'r2' })), CLOSE_CODES.forbidden, /region r2/));
  it("refuses a Harpoon service's bearer token", () =>
    refused(hello('authz-api-token-0123456789abcdef'), CLOSE_CODES.unauthorized, /malformed/));
  it('refuses a token signed with a key rotated out, and accepts the same claims under the new key', async () => {
    const rotating = new AgentKeyring({
      keys: [
        { kid: 'old', secret: OLD_SECRET },
        { kid: 'k1', secret: SECRET },
      ],
    });
    const oldToken = sign(rotating, { serverId: 'hv-1', region: 'r1' });
    await refused(hello(oldToken), CLOSE_CODES.unauthorized, /unknown key/);
    const raw = new RawAgent(url);
    await raw.opened();
    raw.send(hello(sign(keyring, { serverId: 'hv-1', region: 'r1' })));
    expect(await raw.waitFor(() => raw.welcomed)).toBe(true);
    raw.terminate();
  });
  it("answers an acknowledgement of another server's event with UNAUTHORIZED and leaves it untouched", async () => {
    const [theirs] = (await store.query({ serverId: 'hv-2' })).events;
    const raw = new RawAgent(url);
    await raw.opened();
    raw.send(hello(sign(keyring, { serverId: 'hv-1', region: 'r1' })));
    expect(await raw.waitFor(() => raw.welcomed)).toBe(true);
    raw.send({ type: 'ack', acks: [{ id: theirs!.id, status: 'done', result: { stolen: true } }] });
    expect(await raw.waitFor(() => raw.frames.some((f) => f.type === 'acked'))).toBe(true);
    const acked = raw.frames.find((f) => f.type === 'acked') as { results: Array<Record<string, unknown>> };
    expect(acked.results).toEqual([
      expect.objectContaining({ id: theirs!.id, ok: false, code: 'UNAUTHORIZED' }),
    ]);
    // Only its own events ever reach hv-1.
    for (const f of raw.frames.filter((x) => x.type === 'events' || x.type === 'snapshot'))
      for (const e of f.events as Array<{ serverId: string }>) expect(e.serverId).toBe('hv-1');
    raw.terminate();
    expect(await store.get(theirs!.id)).toMatchObject({ status: 'placed', version: 1 });
  });
  it('stops an Agent whose fixed token is refused, with a typed UnauthorizedError', async () => {
    const past = new AgentKeyring({
      keys: [{ kid: 'k1', secret: SECRET }],
      now: () => Date.now() - 3_600_000,
    });
    const agent = new Agent<TestSchemas>({
      serverId: 'hv-1',
      token: sign(past, { serverId: 'hv-1', region: 'r1', ttlMs: 60_000 }),
      urls: [url],
      connector: new WsConnector(),
      handlers: {},
    });
    const reasons: string[] = [];
    agent.on('agent:rejected', (e) => reasons.push(e.reason));
    const err = await agent.start().catch((e: unknown) => e);
    expect(isCtlplaneError(err, 'UNAUTHORIZED')).toBe(true);
    expect(reasons).toEqual(['token-expired']);
    await agent.stop();
    await until(() => router.stats().agentsConnected === 0, 'nothing left connected');
  });
});
