/**
 * The coalescing HarpoonClient's bounds (review of issue #16 item 1): a request's body fits
 * `maxBatchBytes` envelope included, and a batch Harpoon refuses as too large (413) is re-sent in halves; `timeoutMs` bounds
 * a call from the moment it is made, time queued included; `close()` waits for the writes in
 * flight and refuses later calls; one malformed outcome fails only its own call.
 */
import { type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import {
  ClosedError,
  HarpoonClient,
  type HarpoonClientOptions,
  UnavailableError,
  ValidationError,
} from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { create, type TestSchemas } from '../contract/event-store.fixtures.js';
import {
  cleanupAfterEach,
  countingProxy,
  listenPlain,
  serverPerTest,
  TOKEN,
} from './fixtures/harpoon-http-kit.js';

const served = serverPerTest();
const onCleanup = cleanupAfterEach();

function client(url: string, options: Omit<HarpoonClientOptions, 'url' | 'token'> = {}) {
  const c = new HarpoonClient<TestSchemas>({ url, token: TOKEN, ...options });
  onCleanup(() => c.close());
  return c;
}

/** A bare HTTP server on 127.0.0.1 with this handler, closed after the test. */
const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> =>
  (await listenPlain(onCleanup, handler)).server;
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as { port: number }).port}`;

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** An event whose JSON is exactly `bytes` long. */
function eventOf(bytes: number, i = 1) {
  const base = JSON.stringify(create(i, { payload: { vcpus: 1, memoryMb: 1, image: '' } })).length;
  return create(i, { payload: { vcpus: 1, memoryMb: 1, image: 'x'.repeat(bytes - base) } });
}

describe('HarpoonClient request bodies', () => {
  it('keeps each body within maxBatchBytes, the envelope and commas included', async () => {
    const s = await served();
    const proxy = await countingProxy(s.server.url);
    onCleanup(proxy.close);
    const c = client(proxy.url, { coalesce: { windowMs: 20, maxBatchBytes: 4_096 } });
    // Two events of 2,048 bytes: 4,096 of items, 4,108 with `{"each":[`, `,` and `]}`.
    await Promise.all([c.create(eventOf(2_048, 1)), c.create(eventOf(2_048, 2))]);
    const sizes = proxy.bodyBytes('/v1/events');
    expect(sizes.length).toBe(2);
    for (const n of sizes) expect(n).toBeLessThanOrEqual(4_096);
  });

  it('re-sends a batch Harpoon refuses as too large (413) in halves; a single event too large gets the error it gets alone', async () => {
    const s = await served({ maxBodyBytes: 8_192 });
    const proxy = await countingProxy(s.server.url);
    onCleanup(proxy.close);
    const c = client(proxy.url, { coalesce: { windowMs: 20 } });
    // Eight events of 3,000 bytes: one body of ~24 KB, refused; halves of 12 KB, refused; quarters fit.
    const made = await Promise.all(Array.from({ length: 8 }, (_, i) => c.create(eventOf(3_000, i))));
    expect(new Set(made.map((e) => e.id)).size).toBe(8);
    expect(proxy.requests('/v1/events')).toBe(1 + 2 + 4);

    const plain = client(s.server.url, { coalesce: false });
    const big = eventOf(10_000);
    const alone = await settle(plain.create(big));
    const coalesced = await settle(c.create(big));
    expect(alone.ok).toBe(false);
    expect(coalesced.ok).toBe(false);
    const err = (coalesced as { error: ValidationError }).error;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toBe((alone as { error: ValidationError }).error.message);
    expect(err.issues).toEqual((alone as { error: ValidationError }).error.issues);
  });

  it.each([
    ['undefined', undefined],
    ['a BigInt', { type: 'droplet.create', payload: { vcpus: 1n }, region: 'nyc1' }],
  ])('refuses %s with a ValidationError, coalesced or not', async (_name, input) => {
    const s = await served();
    const coalesced = await settle(client(s.server.url).create(input as never));
    const alone = await settle(client(s.server.url, { coalesce: false }).create(input as never));
    for (const r of [coalesced, alone])
      expect((r as { error: unknown }).error).toBeInstanceOf(ValidationError);
    expect((coalesced as { error: Error }).error.message).toBe((alone as { error: Error }).error.message);
  });
});

describe('HarpoonClient time budget and close', () => {
  it('bounds a coalesced call by timeoutMs from when it is made, time queued behind maxInFlight included', async () => {
    // Harpoon that never answers a create.
    const server = await listen(() => {});
    const c = client(urlOf(server), { timeoutMs: 400, coalesce: { windowMs: 0, maxInFlight: 1 } });
    const first = settle(c.create(create(1)));
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    // Queued behind the first request until it times out, then sent with what is left of its budget.
    const second = await settle(c.create(create(2)));
    const waited = performance.now() - t0;
    expect((second as { error: unknown }).error).toBeInstanceOf(UnavailableError);
    // Before: a fresh 400 ms from when its request left, ~780 ms in all.
    expect(waited).toBeLessThan(400 + 150);
    expect((await first).ok).toBe(false);
  });

  it('close() waits for the writes in flight, coalesced or not, and refuses every later call', async () => {
    const s = await served();
    const slow = await countingProxy(s.server.url, { answerDelayMs: 200 });
    onCleanup(slow.close);
    const c = client(slow.url, { coalesce: { windowMs: 0 } });
    const plain = client(slow.url, { coalesce: false });
    const writes = [settle(c.create(create(1))), settle(plain.create(create(2)))];
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([c.close(), plain.close()]);
    // Before: the uncoalesced create failed (its connection destroyed by close()).
    for (const w of await Promise.all(writes)) expect(w.ok).toBe(true);
    for (const call of [() => plain.head(), () => plain.create(create(3)), () => c.createMany([create(4)])]) {
      await expect(call()).rejects.toBeInstanceOf(ClosedError);
    }
    await expect(c.transition({ id: 1, from: 'pending', to: 'cancelled' })).rejects.toBeInstanceOf(
      ClosedError,
    );
  });
});

describe('HarpoonClient outcomes', () => {
  it('fails only the call whose outcome is malformed; the others get their events', async () => {
    const s = await served();
    // A proxy that spoils the second outcome of every coalesced answer.
    const to = new URL(s.server.url);
    const tamper = await listen((req, res) => {
      const out = request(
        { hostname: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (b: Buffer) => chunks.push(b));
          answer.on('end', () => {
            const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { outcomes?: unknown[] };
            if (json.outcomes) json.outcomes[1] = { ok: 'perhaps' };
            res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' });
            res.end(JSON.stringify(json));
          });
        },
      );
      req.pipe(out);
    });
    const c = client(urlOf(tamper), { coalesce: { windowMs: 20 } });
    const results = await Promise.all([0, 1, 2].map((i) => settle(c.create(create(i)))));
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect((results[1] as { error: unknown }).error).toBeInstanceOf(UnavailableError);
    expect(((results[1] as { error: UnavailableError }).error as UnavailableError).transient).toBe(false);
  });
});
