/**
 * Harpoon's HTTP API under fuzzing, on a real HarpoonHttpServer on 127.0.0.1 backed by the memory
 * store: random methods, paths, headers, bodies, garbage bytes, oversized and deep bodies. Every
 * request gets a success or a typed error (never a 5xx other than 503), nothing is half-written,
 * tokens never come back, and the server keeps serving.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore, Harpoon, HarpoonClient } from '@ctlplane/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { deepArrayJson, garbageBytes } from './fixtures/security-arbitraries.js';
import {
  allIds,
  FUZZ_MAX_BODY,
  fuzzHarpoon,
  fuzzServer,
  HARPOON_TOKENS,
} from './fixtures/security-harpoon.js';
import { httpRequest, rawExchange, statusOf } from './fixtures/security-http.js';
import { fuzzParams, RecordingLogger, Tally } from './fixtures/security-kit.js';

const HTTP_RUNS = 1_000;
const RAW_RUNS = 150;

describe('Harpoon HTTP API under fuzzing (memory store)', () => {
  const log = new RecordingLogger('harpoon');
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const harpoon = new Harpoon<TestSchemas>({ store, logger: log });
  const server = fuzzServer(harpoon, log);
  const created = new Set<number>();
  let api: HarpoonClient<TestSchemas>;
  let port = 0;

  beforeAll(async () => {
    await server.listen();
    port = Number(new URL(server.url).port);
    api = new HarpoonClient({ url: server.url, token: HARPOON_TOKENS.full });
    // Something for reads, transitions and claims to find.
    for (const e of await api.createMany(Array.from({ length: 20 }, (_, i) => create(i)))) created.add(e.id);
  });
  afterAll(async () => {
    await server.close();
    await harpoon.close();
    await store.close();
  });

  async function stillServes(): Promise<void> {
    const e = await api.create(create(99));
    created.add(e.id);
    expect((await api.get(e.id))?.id).toBe(e.id);
    const health = await httpRequest(server.url, { method: 'GET', path: '/v1/health' });
    expect(health.status).toBe(200);
  }

  it(`answers ${HTTP_RUNS} hostile requests with a success or a typed error, and keeps serving`, async () => {
    const tally = new Tally('harpoon-http (memory)');
    const defects = await fuzzHarpoon(server.url, HTTP_RUNS, fuzzParams(HTTP_RUNS), tally, created);
    tally.print();
    expect(defects).toEqual([]);
    expect(tally.total).toBeGreaterThanOrEqual(HTTP_RUNS);
    // The generator reached every kind of answer that matters.
    for (const outcome of ['201', '400 VALIDATION', '401 UNAUTHORIZED', '404 NOT_FOUND'])
      expect(tally.count(outcome), outcome).toBeGreaterThan(0);
    await stillServes();
    // Nothing half-written: the store holds exactly the events the 201 answers named.
    expect([...(await allIds(store))].sort((a, b) => a - b)).toEqual([...created].sort((a, b) => a - b));
    expect(log.text()).not.toContain(HARPOON_TOKENS.full);
    expect(log.text()).not.toContain(HARPOON_TOKENS.reader);
  });

  it(`answers ${RAW_RUNS} raw garbage connections with a 4xx or a close, and keeps serving`, async () => {
    const tally = new Tally('harpoon-http raw socket (memory)');
    const crafted = fc.constantFrom(
      'GET /v1/head HTTP/1.1\r\n\r\n', // no Host
      `GET /v1/head HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${HARPOON_TOKENS.full}\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`,
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${HARPOON_TOKENS.full}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'GET /v1/head HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n',
      'GET /v1/head HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET\r\n\r\n',
      '\r\n\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003', // a TLS ClientHello start
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(garbageBytes, crafted), async (bytes) => {
        const { reply, closedByServer } = await rawExchange('127.0.0.1', port, bytes);
        const status = statusOf(reply);
        if (status !== null) expect(status, reply.slice(0, 200)).toBeLessThan(500);
        expect(reply).not.toContain(HARPOON_TOKENS.full);
        tally.add(status !== null ? `${status}` : closedByServer ? 'closed' : 'no answer yet (dropped)');
      }),
      fuzzParams(RAW_RUNS),
    );
    tally.print();
    expect(tally.total).toBe(RAW_RUNS);
    await stillServes();
  });

  it('answers oversized bodies with 413, also when chunked, and huge headers with 431', async () => {
    const auth = { authorization: `Bearer ${HARPOON_TOKENS.full}`, 'content-type': 'application/json' };
    const before = (await allIds(store)).size;
    const exact = JSON.stringify({
      event: create(1, { payload: { vcpus: 1, memoryMb: 1, image: 'x'.repeat(FUZZ_MAX_BODY) } }),
    });
    const r1 = await httpRequest(server.url, {
      method: 'POST',
      path: '/v1/events',
      headers: auth,
      body: exact,
    });
    expect(r1.status).toBe(413);
    expect(JSON.parse(r1.body)).toMatchObject({ error: { code: 'VALIDATION' } });
    const chunked = await rawExchange(
      '127.0.0.1',
      port,
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${HARPOON_TOKENS.full}\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${(FUZZ_MAX_BODY + 10).toString(16)}\r\n${'x'.repeat(FUZZ_MAX_BODY + 10)}\r\n0\r\n\r\n`,
      1_000,
    );
    expect(statusOf(chunked.reply)).toBe(413);
    const header = await httpRequest(server.url, {
      method: 'GET',
      path: '/v1/head',
      headers: { ...auth, 'x-big': 'a'.repeat(20_000) },
    });
    expect(header.status).toBe(431);
    expect((await allIds(store)).size).toBe(before);
    await stillServes();
  });

  it('regression(deep-json-500): a 5,000-deep payload is refused with 400 VALIDATION, not answered 500 INTERNAL', async () => {
    // Found by fuzzing: 30 kB of JSON, well under maxBodyBytes, that JSON.parse accepts; measuring
    // the payload with JSON.stringify overflowed the stack (RangeError) and the answer was a 500.
    const before = (await allIds(store)).size;
    const body = `{"event":{"type":"blob","region":"nyc1","payload":{"data":"x","nested":${deepArrayJson(5_000)}}}}`;
    const r = await httpRequest(server.url, {
      method: 'POST',
      path: '/v1/events',
      headers: { authorization: `Bearer ${HARPOON_TOKENS.full}`, 'content-type': 'application/json' },
      body,
    });
    expect((await allIds(store)).size).toBe(before);
    await stillServes();
    expect({ status: r.status, body: r.body }).toMatchObject({ status: 400 });
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'VALIDATION' } });
  });

  it('regression(deep-json-500): a 5,000-deep transition result is refused with 400 VALIDATION, not 500', async () => {
    const [e] = await api.createMany([create(5, { serverId: 'hv-deep' })]);
    created.add(e!.id);
    const r = await httpRequest(server.url, {
      method: 'POST',
      path: '/v1/transitions',
      headers: { authorization: `Bearer ${HARPOON_TOKENS.full}`, 'content-type': 'application/json' },
      body: `{"transition":{"id":${e!.id},"from":"placed","to":"running","result":${deepArrayJson(5_000)}}}`,
    });
    expect((await api.get(e!.id))?.status).toBe('placed');
    await stillServes();
    expect({ status: r.status, body: r.body }).toMatchObject({ status: 400 });
  });
});
