import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import {
  ConflictError,
  EventStore,
  Harpoon,
  HarpoonClient,
  HarpoonHttpServer,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from '@ctlplane/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';

const TOKENS = {
  api: 'api-token-0123456789abcdef',
  router: 'router-token-0123456789abcdef',
};

describe('Harpoon over HTTP', () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const harpoon = new Harpoon<TestSchemas>({ store });
  const server = new HarpoonHttpServer({
    harpoon,
    tokens: [
      { service: 'api', token: TOKENS.api },
      { service: 'router', token: TOKENS.router, scopes: ['events:read', 'events:transition'] },
    ],
    maxBodyBytes: 64 * 1024,
  });
  let api: HarpoonClient<TestSchemas>;
  let router: HarpoonClient<TestSchemas>;

  beforeAll(async () => {
    await server.listen();
    api = new HarpoonClient({ url: server.url, token: TOKENS.api });
    router = new HarpoonClient({ url: server.url, token: TOKENS.router });
  });
  afterAll(async () => {
    await server.close();
    await harpoon.close();
    await store.close();
  });

  it('creates, reads, transitions and queries with typed results', async () => {
    const created = await api.create(create(1, { idempotencyKey: 'http-1' }));
    expect(created.status).toBe('pending');
    expect(created.createdAt).toBeInstanceOf(Date);
    expect((await api.create(create(9, { idempotencyKey: 'http-1' }))).id).toBe(created.id);
    const placed = await router.transition({
      id: created.id,
      version: created.version,
      to: 'placed',
      serverId: 'hv-1',
    });
    expect(placed.serverId).toBe('hv-1');
    expect((await router.get(created.id))!.version).toBe(placed.version);
    expect(await router.get(987_654)).toBeNull();
    const page = await router.query({ status: 'placed', serverId: 'hv-1' });
    expect(page.events.map((e) => e.id)).toEqual([created.id]);
    const many = await api.createMany([create(2), create(3)]);
    const outcomes = await router.transitionMany([
      { id: many[0]!.id, from: 'pending', to: 'cancelled' },
      { id: many[1]!.id, from: 'running', to: 'done' },
    ]);
    expect(outcomes[0]!.ok).toBe(true);
    expect(outcomes[1]!.ok ? null : outcomes[1]!.error).toBeInstanceOf(ConflictError);
  });

  it('carries the trace context both ways, coalesced or not, and refuses a bad one naming the field', async () => {
    const tc = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'a=1' };
    const plain = new HarpoonClient<TestSchemas>({ url: server.url, token: TOKENS.api, coalesce: false });
    try {
      const [one, two] = await Promise.all([
        api.create(create(1, { traceContext: tc })),
        plain.create(create(2, { traceContext: tc })),
      ]);
      expect([one!.traceContext, two!.traceContext]).toEqual([tc, tc]);
      expect((await router.get(one!.id))!.traceContext).toEqual(tc);
      const placed = await router.transition({
        id: one!.id,
        from: 'pending',
        to: 'placed',
        serverId: 'hv-1',
      });
      expect(placed.traceContext).toEqual(tc);
      expect(
        (await router.readFeed(0, { limit: 1_000 })).events.find((e) => e.id === one!.id)?.traceContext,
      ).toEqual(tc);
      expect((await api.create(create(3))).traceContext).toBeNull();
      for (const client of [api, plain]) {
        const err = await client
          .create(create(4, { traceContext: { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` } }))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).issues.map((i) => i.path)).toEqual([
          expect.stringMatching(/traceContext\.traceparent$/),
        ]);
      }
    } finally {
      await plain.close();
    }
  });

  it('returns typed errors: validation with issues, conflict, not found', async () => {
    const err = await api
      .create({ type: 'droplet.create', payload: { vcpus: 'x' }, region: 'r' } as never)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toContain('[0].payload.vcpus');
    const e = await api.create(create(4));
    await expect(
      router.transition({ id: e.id, version: 99, to: 'placed', serverId: 's' }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(router.transition({ id: 123_456, from: 'pending', to: 'cancelled' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('long-polls the feed: a waiting reader gets a change committed while it waits', async () => {
    const head = await router.head();
    const waiting = router.readFeed(head, { waitMs: 5_000 });
    await new Promise((r) => setTimeout(r, 100));
    const e = await api.create(create(5));
    const page = await waiting;
    expect(page.events.map((x) => x.id)).toEqual([e.id]);
    expect(page.cursor).toBeGreaterThan(head);
  });

  it.each([
    ['no token', undefined, 401],
    ['a forged token', 'forged-token-0123456789abcdef', 401],
    ['a token in the wrong scheme', `Basic ${TOKENS.api}`, 401],
  ])('refuses %s', async (_name, authorization, status) => {
    const res = await fetch(`${server.url}/v1/events`, {
      headers:
        authorization === undefined
          ? {}
          : { authorization: authorization.startsWith('Basic') ? authorization : `Bearer ${authorization}` },
    });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAUTHORIZED');
    expect(body.error.message).not.toContain(TOKENS.api);
  });

  it("refuses another service's scope", async () => {
    await expect(router.create(create(6))).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(router.claim({ owner: 'x', limit: 1, leaseMs: 1_000 })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('answers malformed and oversized bodies with typed errors and keeps serving', async () => {
    const post = (body: string) =>
      fetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.api}` },
        body,
      });
    const bad = await post('{"event": ');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('VALIDATION');
    const big = await post(
      JSON.stringify({
        event: create(1, { payload: { vcpus: 1, memoryMb: 1, image: 'x'.repeat(100_000) } }),
      }),
    );
    expect(big.status).toBe(413);
    const unknown = await fetch(`${server.url}/v1/nope`, {
      headers: { authorization: `Bearer ${TOKENS.api}` },
    });
    expect(unknown.status).toBe(404);
    expect((await api.create(create(7))).status).toBe('pending');
    const health = (await (await fetch(`${server.url}/v1/health`)).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
  });
});
