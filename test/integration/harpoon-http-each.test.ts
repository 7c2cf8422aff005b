/**
 * The coalesced body `{ "each": [...] }` of POST /v1/events and /v1/transitions on the wire: what
 * Harpoon refuses as a whole (not a list, too many items, a token without the route's scope, a
 * body too large, more than its share of the queue) and how each item's error is encoded.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore, Harpoon, HarpoonHttpServer } from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { serverPerTest, TOKEN } from './fixtures/harpoon-http-kit.js';
import { httpRequest } from './fixtures/security-http.js';

const served = serverPerTest();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const READER = 'reader-token-0123456789abcdef';
const headers = (token = TOKEN) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
const post = (url: string, path: string, body: unknown, token?: string) =>
  httpRequest(url, {
    method: 'POST',
    path,
    headers: headers(token),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const json = (body: string) =>
  JSON.parse(body) as {
    outcomes?: { ok: boolean; event?: Record<string, unknown>; error?: Record<string, unknown> }[];
    error?: {
      code: string;
      message: string;
      issues?: { path: string; message: string }[];
      retryAfterMs?: number;
    };
  };

describe('POST { each } refused as a whole', () => {
  it.each(['/v1/events', '/v1/transitions'])(
    '%s: `each` not a list is a 400 naming the field',
    async (path) => {
      const s = await served();
      const r = await post(s.server.url, path, { each: { a: 1 } });
      expect(r.status).toBe(400);
      const { error } = json(r.body);
      expect(error?.code).toBe('VALIDATION');
      expect(error?.issues?.map((i) => i.path)).toEqual(['each']);
    },
  );

  it('5,001 items is a 400 naming the field; nothing is created', async () => {
    const s = await served();
    const r = await post(s.server.url, '/v1/events', {
      each: Array.from({ length: 5_001 }, (_, i) => create(i)),
    });
    expect(r.status).toBe(400);
    const { error } = json(r.body);
    expect(error?.code).toBe('VALIDATION');
    expect(error?.issues?.map((i) => i.path)).toEqual(['each']);
    expect(error?.issues?.[0]?.message).toContain('5000');
    expect((await s.store.query({ limit: 10 })).events).toEqual([]);
  });

  it("a token without the route's scope is refused (401 UNAUTHORIZED) before the body is read", async () => {
    const s = await served({
      tokens: [
        { service: 'test', token: TOKEN },
        { service: 'reader', token: READER, scopes: ['events:read'] },
      ],
    });
    for (const path of ['/v1/events', '/v1/transitions']) {
      const r = await post(s.server.url, path, { each: [create(1)] }, READER);
      expect(r.status).toBe(401);
      expect(json(r.body).error).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(json(r.body).error?.message).toContain(
        path === '/v1/events' ? 'events:create' : 'events:transition',
      );
    }
    expect((await s.store.query({ limit: 10 })).events).toEqual([]);
  });

  it('a body over maxBodyBytes is a 413; nothing is created', async () => {
    const s = await served({ maxBodyBytes: 4_096 });
    const r = await post(s.server.url, '/v1/events', {
      each: Array.from({ length: 40 }, (_, i) => create(i)),
    });
    expect(r.status).toBe(413);
    expect(json(r.body).error).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'body' }] });
    expect((await s.store.query({ limit: 10 })).events).toEqual([]);
  });
});

describe('POST { each } outcomes', () => {
  it('encodes each item: its event, or the error body its own request would get', async () => {
    const s = await served();
    const bad = { type: 'droplet.create', payload: { vcpus: 'x' }, region: 'nyc1' };
    const r = await post(s.server.url, '/v1/events', { each: [create(1), bad, 'not an event', create(2)] });
    expect(r.status).toBe(200);
    const { outcomes } = json(r.body);
    expect(outcomes?.map((o) => o.ok)).toEqual([true, false, false, true]);
    expect(outcomes?.[0]?.event).toMatchObject({ status: 'pending', version: 1 });
    expect(typeof outcomes?.[0]?.event?.createdAt).toBe('string');
    // The error body of the same event sent alone (`{ event }`), field by field.
    const alone = json((await post(s.server.url, '/v1/events', { event: bad })).body).error;
    expect(outcomes?.[1]).toEqual({ ok: false, error: alone });

    const [a] = await s.harpoon.createMany([create(3)]);
    const t = await post(s.server.url, '/v1/transitions', {
      each: [
        { id: a!.id, version: 99, to: 'cancelled' },
        { id: a!.id, from: 'pending', to: 'nowhere' },
        { id: a!.id, from: 'pending', to: 'cancelled' },
      ],
    });
    const items = json(t.body).outcomes;
    expect(items?.map((o) => o.ok)).toEqual([false, false, true]);
    expect(items?.[0]?.error).toMatchObject({ code: 'CONFLICT' });
    expect(items?.[1]?.error).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'transition.to' }] });
    expect(items?.[2]?.event).toMatchObject({ id: a!.id, status: 'cancelled' });
  });
});

describe('POST { each } and the shared queue', () => {
  it('admits a request only if it leaves as much room as it takes; refused, it is a 429 BUSY with Retry-After, none of its items queued', async () => {
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
    // Each group commit lingers 300 ms: what a request queued stays pending meanwhile.
    const harpoon = new Harpoon<TestSchemas>({
      store,
      maxPending: 100,
      creates: { lingerMs: 300, maxBatch: 5_000 },
    });
    const server = new HarpoonHttpServer({ harpoon, tokens: [{ service: 'test', token: TOKEN }] });
    await server.listen();
    closers.push(async () => {
      await server.close();
      await harpoon.close();
      await store.close();
    });
    const each = (n: number, from: number) => ({
      each: Array.from({ length: n }, (_, i) => create(from + i)),
    });
    const first = post(server.url, '/v1/events', each(40, 0));
    await expect.poll(() => harpoon.stats.pending).toBe(40);
    // 60 free: a request of 40 would leave 20.
    const refused = await post(server.url, '/v1/events', each(40, 100));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(json(refused.body).error).toMatchObject({ code: 'BUSY', retryAfterMs: 50 });
    expect(harpoon.stats.pending).toBe(40);
    // 30 leaves 30: admitted; so is a single create (the room is never all taken by `each`).
    const second = post(server.url, '/v1/events', each(30, 200));
    await expect.poll(() => harpoon.stats.pending).toBe(70);
    const single = await post(server.url, '/v1/events', { event: create(300) });
    expect(single.status).toBe(201);
    for (const r of await Promise.all([first, second])) {
      expect(r.status).toBe(200);
      expect(json(r.body).outcomes?.every((o) => o.ok)).toBe(true);
    }
    expect((await store.query({ limit: 200 })).events).toHaveLength(71);
  });
});
