/**
 * The coalescing HarpoonClient (issue #16 item 1) against a served Harpoon on the memory store:
 * concurrent creates and transitions travel in one request and come back one result or typed
 * error per call, exactly as each call alone would; requests are bounded in calls and bytes; a
 * request that fails as a whole fails each of its calls with that error.
 */
import {
  BusyError,
  ClosedError,
  ConflictError,
  HarpoonClient,
  type HarpoonClientOptions,
  UnavailableError,
  ValidationError,
} from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { create, type TestSchemas } from '../contract/event-store.fixtures.js';
import { cleanupAfterEach, countingProxy, serverPerTest, TOKEN } from './fixtures/harpoon-http-kit.js';

const served = serverPerTest();
const onCleanup = cleanupAfterEach();

/** A served Harpoon behind a counting proxy, and a client of it with these options. */
async function setup(options: Omit<HarpoonClientOptions, 'url' | 'token'> = {}) {
  const s = await served();
  const proxy = await countingProxy(s.server.url);
  const client = new HarpoonClient<TestSchemas>({ url: proxy.url, token: TOKEN, ...options });
  const plain = new HarpoonClient<TestSchemas>({ url: s.server.url, token: TOKEN, coalesce: false });
  onCleanup(proxy.close);
  onCleanup(() => client.close());
  onCleanup(() => plain.close());
  return { ...s, proxy, client, plain };
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

const BAD = { type: 'droplet.create', payload: { vcpus: 'x' }, region: 'nyc1' } as never;

describe('HarpoonClient coalescing', () => {
  it('sends concurrent creates as one request; one bad event fails only its own call, with the error it gets alone', async () => {
    const { client, plain, proxy, store } = await setup({ coalesce: { windowMs: 20 } });
    const calls = Array.from({ length: 20 }, (_, i) => settle(client.create(i === 7 ? BAD : create(i))));
    const results = await Promise.all(calls);
    expect(proxy.requests('/v1/events')).toBe(1);
    const good = results.filter((r) => r.ok);
    expect(good).toHaveLength(19);
    const ids = good.map((r) => r.value.id);
    expect(new Set(ids).size).toBe(19);
    for (const r of good) expect(r.value.createdAt).toBeInstanceOf(Date);
    expect((await store.query({ limit: 100 })).events.map((e) => e.id).sort()).toEqual(ids.sort());

    const coalesced = results[7]!;
    expect(coalesced.ok).toBe(false);
    const alone = await plain.create(BAD).catch((e: unknown) => e);
    const err = (coalesced as { error: unknown }).error;
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toBe((alone as ValidationError).message);
    expect((err as ValidationError).issues).toEqual((alone as ValidationError).issues);
    expect((err as ValidationError).issues.map((i) => i.path)).toContain('[0].payload.vcpus');
  });

  it('sends concurrent transitions as one request, each with its own outcome (a conflict and a malformed input among good ones)', async () => {
    const { client, plain, proxy } = await setup({ coalesce: { windowMs: 20 } });
    const events = await plain.createMany([create(1), create(2), create(3), create(4)]);
    const malformed = { id: events[3]!.id, from: 'pending', to: 'nowhere' } as never;
    const results = await Promise.all([
      settle(client.transition({ id: events[0]!.id, from: 'pending', to: 'cancelled' })),
      settle(client.transition({ id: events[1]!.id, version: 99, to: 'cancelled' })),
      settle(client.transition(malformed)),
      settle(client.transition({ id: events[2]!.id, version: events[2]!.version, to: 'cancelled' })),
    ]);
    expect(proxy.requests('/v1/transitions')).toBe(1);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true]);
    expect((results[0] as { value: { status: string } }).value.status).toBe('cancelled');
    expect((results[1] as { error: unknown }).error).toBeInstanceOf(ConflictError);
    const alone = await plain.transition(malformed).catch((e: unknown) => e);
    const err = (results[2] as { error: unknown }).error as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toBe((alone as ValidationError).message);
    expect(err.issues).toEqual((alone as ValidationError).issues);
  });

  it('bounds a request by maxBatch and by maxBatchBytes; an event larger than maxBatchBytes goes alone', async () => {
    const { client, proxy } = await setup({ coalesce: { windowMs: 20, maxBatch: 4 } });
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.create(create(i))));
    expect(proxy.requests('/v1/events')).toBe(3);

    const bytes = await setup({ coalesce: { windowMs: 20, maxBatchBytes: 4_096 } });
    const image = (n: number) => create(1, { payload: { vcpus: 1, memoryMb: 1, image: 'x'.repeat(n) } });
    // Three of ~1.5 KB fit two to a request; one of 10 KB goes alone.
    const made = await Promise.all(
      [image(1_500), image(1_500), image(1_500), image(10_000)].map((e) => bytes.client.create(e)),
    );
    expect(made).toHaveLength(4);
    expect(bytes.proxy.requests('/v1/events')).toBe(3);
  });

  it('coalesce: false sends one request per call', async () => {
    const { proxy, server } = await setup();
    const plain = new HarpoonClient<TestSchemas>({ url: proxy.url, token: TOKEN, coalesce: false });
    onCleanup(() => plain.close());
    await Promise.all(Array.from({ length: 5 }, (_, i) => plain.create(create(i))));
    expect(proxy.requests('/v1/events')).toBe(5);
    expect(server.url).toMatch(/^http:/);
  });

  it('fails every call of a request that fails as a whole with its typed error: unreachable is a transient UnavailableError', async () => {
    const { server } = await setup();
    // Straight to Harpoon, not through the proxy: nothing listens once it is closed.
    const client = new HarpoonClient<TestSchemas>({
      url: server.url,
      token: TOKEN,
      coalesce: { windowMs: 5 },
    });
    onCleanup(() => client.close());
    await server.close();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => settle(client.create(create(i)))));
    for (const r of results) {
      expect(r.ok).toBe(false);
      const err = (r as { error: unknown }).error;
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as UnavailableError).transient).toBe(true);
    }
  });

  it('bounds the calls waiting per kind (BusyError), and close() sends what waits then refuses more', async () => {
    const { client } = await setup({ coalesce: { windowMs: 50, maxPending: 3 } });
    const calls = Array.from({ length: 4 }, (_, i) => settle(client.create(create(i))));
    const closing = client.close();
    const results = await Promise.all(calls);
    await closing;
    expect(results.slice(0, 3).every((r) => r.ok)).toBe(true);
    expect((results[3] as { error: unknown }).error).toBeInstanceOf(BusyError);
    await expect(client.create(create(9))).rejects.toBeInstanceOf(ClosedError);
  });

  it.each([
    [{ windowMs: -1 }, 'coalesce.windowMs'],
    [{ maxBatch: 5_001 }, 'coalesce.maxBatch'],
    [{ every: 1 }, 'coalesce.every'],
  ])('refuses bad coalescing options %j, naming the field', (coalesce, path) => {
    let err: unknown;
    try {
      new HarpoonClient({ url: 'http://127.0.0.1:1', token: TOKEN, coalesce: coalesce as never });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toContain(path);
  });
});
