/**
 * Authorization matrix of Harpoon's HTTP API: no token, malformed, forged, revoked, another
 * Harpoon's, an agent's token, and every service calling a route outside its scopes. Each case is
 * its own test; each is refused with 401 and code UNAUTHORIZED, writes nothing, and never echoes
 * the credential.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import {
  AgentKeyring,
  EventStore,
  Harpoon,
  HarpoonClient,
  HarpoonHttpServer,
  type HarpoonScope,
} from '@ctlplane/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { httpRequest } from './fixtures/security-http.js';

const T = {
  api: 'authz-api-token-0123456789abcdef',
  scheduler: 'authz-scheduler-token-0123456789abcdef',
  router: 'authz-router-token-0123456789abcdef',
  reader: 'authz-reader-token-0123456789abcdef',
  other: 'authz-other-harpoon-token-0123456789',
  revoked: 'authz-revoked-token-0123456789abcdef',
} as const;

const SCOPES: Record<'api' | 'scheduler' | 'router' | 'reader', HarpoonScope[]> = {
  api: ['events:create', 'events:read'],
  scheduler: ['events:claim', 'events:transition', 'events:read'],
  router: ['events:transition', 'events:read'],
  reader: ['events:read'],
};

/** One request per route, with a valid body, and the scope it needs. */
const ROUTES: Array<{ scope: HarpoonScope; method: string; path: string; body?: unknown }> = [
  { scope: 'events:create', method: 'POST', path: '/v1/events', body: { event: create(1) } },
  {
    scope: 'events:transition',
    method: 'POST',
    path: '/v1/transitions',
    body: { transition: { id: 1, from: 'pending', to: 'cancelled' } },
  },
  { scope: 'events:read', method: 'GET', path: '/v1/events/1' },
  { scope: 'events:read', method: 'GET', path: '/v1/events?limit=5' },
  { scope: 'events:read', method: 'GET', path: '/v1/feed?cursor=0' },
  { scope: 'events:read', method: 'GET', path: '/v1/head' },
  {
    scope: 'events:claim',
    method: 'POST',
    path: '/v1/claims',
    body: { owner: 'x', limit: 1, leaseMs: 1_000 },
  },
  {
    scope: 'events:claim',
    method: 'POST',
    path: '/v1/leases/renew',
    body: { id: 1, owner: 'x', leaseMs: 1_000 },
  },
  { scope: 'events:claim', method: 'POST', path: '/v1/leases/release', body: { id: 1, owner: 'x' } },
];

describe('Harpoon HTTP authorization matrix', () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const harpoon = new Harpoon<TestSchemas>({ store });
  const tokens = (['api', 'scheduler', 'router', 'reader'] as const).map((s) => ({
    service: s,
    token: T[s],
    scopes: SCOPES[s],
  }));
  const server = new HarpoonHttpServer({ harpoon, tokens });
  // Another Harpoon (another deployment): its token means nothing here.
  const otherStore = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const otherHarpoon = new Harpoon<TestSchemas>({ store: otherStore });
  const other = new HarpoonHttpServer({ harpoon: otherHarpoon, tokens: [{ service: 'x', token: T.other }] });
  let eventId = 0;

  beforeAll(async () => {
    await server.listen();
    await other.listen();
    eventId = (await new HarpoonClient<TestSchemas>({ url: server.url, token: T.api }).create(create(0))).id;
  });
  afterAll(async () => {
    await server.close();
    await other.close();
    await harpoon.close();
    await otherHarpoon.close();
    await store.close();
    await otherStore.close();
  });

  /** Send `route` with `authorization`; expect a refusal that writes nothing and echoes no credential. */
  async function refused(authorization: string | undefined, route = ROUTES[0]!, message?: RegExp) {
    const head = await store.head();
    const r = await httpRequest(server.url, {
      method: route.method,
      path: route.path,
      headers: {
        ...(authorization === undefined ? {} : { authorization }),
        ...(route.body ? { 'content-type': 'application/json' } : {}),
      },
      ...(route.body ? { body: JSON.stringify(route.body) } : {}),
    });
    expect(r.status).toBe(401);
    const body = JSON.parse(r.body) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAUTHORIZED');
    if (message) expect(body.error.message).toMatch(message);
    for (const t of Object.values(T)) expect(r.body).not.toContain(t);
    expect(await store.head()).toBe(head);
    expect((await store.get(eventId))?.status).toBe('pending');
  }

  it('refuses a request with no token', () => refused(undefined, ROUTES[0], /missing bearer token/));
  it('refuses an empty bearer token', () => refused('Bearer ', ROUTES[0], /missing bearer token/));
  it('refuses a token in another scheme (Basic)', () =>
    refused(`Basic ${Buffer.from(`api:${T.api}`).toString('base64')}`, ROUTES[0], /missing bearer token/));
  it('refuses a forged token', () =>
    refused('Bearer forged-token-0123456789abcdef', ROUTES[0], /invalid bearer token/));
  it('refuses a valid token with one character more', () =>
    refused(`Bearer ${T.api}x`, ROUTES[0], /invalid bearer token/));
  it('refuses a valid token with one character less', () =>
    refused(`Bearer ${T.api.slice(0, -1)}`, ROUTES[0], /invalid bearer token/));
  it('refuses a token given twice in the header', () => refused(`Bearer ${T.api} ${T.api}`, ROUTES[0]));
  it('refuses a revoked token (Harpoon tokens do not expire: revoking removes them from the list)', () =>
    refused(`Bearer ${T.revoked}`, ROUTES[0], /invalid bearer token/));
  it("refuses another Harpoon deployment's token", async () => {
    // It works where it belongs...
    expect(
      (
        await httpRequest(other.url, {
          method: 'GET',
          path: '/v1/head',
          headers: { authorization: `Bearer ${T.other}` },
        })
      ).status,
    ).toBe(200);
    await refused(`Bearer ${T.other}`, ROUTES[5], /invalid bearer token/);
  });
  it("refuses an agent's router token", () => {
    const keyring = new AgentKeyring({
      keys: [{ kid: 'k1', secret: 'authz-agent-signing-key-0123456789abcdef' }],
    });
    return refused(
      `Bearer ${keyring.sign({ serverId: 'hv-1', region: 'r1' })}`,
      ROUTES[2],
      /invalid bearer token/,
    );
  });
  it('refuses a token passed in the query string instead of the header', () =>
    refused(
      undefined,
      { ...ROUTES[5]!, path: `/v1/head?token=${T.api}&access_token=${T.api}` },
      /missing bearer token/,
    ));

  const matrix = (['api', 'scheduler', 'router', 'reader'] as const).flatMap((service) =>
    ROUTES.map((route) => ({ service, route, allowed: SCOPES[service].includes(route.scope) })),
  );
  it.each(
    matrix
      .filter((m) => !m.allowed)
      .map((m) => [m.service, m.route.method, m.route.path, m.route.scope, m.route] as const),
  )("refuses service %s on %s %s (another service's scope %s)", (service, _m, _p, scope, route) =>
    refused(`Bearer ${T[service]}`, route, new RegExp(`lacks scope ${scope}`)),
  );
  it.each(
    matrix.filter((m) => m.allowed).map((m) => [m.service, m.route.method, m.route.path, m.route] as const),
  )('lets service %s call %s %s (in its scopes)', async (service, _m, _p, route) => {
    const r = await httpRequest(server.url, {
      method: route.method,
      path: route.path,
      headers: { authorization: `Bearer ${T[service]}`, 'content-type': 'application/json' },
      ...(route.body ? { body: JSON.stringify(route.body) } : {}),
    });
    // Authorized: the answer is the route's own (success, or a conflict on the shared event).
    expect(r.status).not.toBe(401);
    expect(r.status).toBeLessThan(500);
  });
});
