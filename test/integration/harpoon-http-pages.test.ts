/**
 * Pages bounded in bytes (issue 13, finding 8): `limit` counts events, so a page of large events
 * had no size limit (560 × 1 MB: "Invalid string length" after 8.7 s at 3.27 GiB, and never
 * readable). A page now stops at `maxResponseBytes`, always carries at least one event, and says
 * where to continue, so every event can be read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '../contract/event-store.fixtures.js';
import { memoryServer, TOKEN } from './fixtures/harpoon-http-kit.js';
import { httpRequest } from './fixtures/security-http.js';

const MIB = 1024 * 1024;
/** 24 events of ~500 kB (the store's payload limit is 512 KiB): 12 MB, past the 8 MiB budget. */
const COUNT = 24;
const big = (i: number) =>
  create(i, { payload: { vcpus: 1, memoryMb: 1, image: `${i}`.padEnd(500_000, 'x') } });

describe('pages bounded in bytes', () => {
  let s: Awaited<ReturnType<typeof memoryServer>>;
  let ids: number[];

  beforeAll(async () => {
    s = await memoryServer();
    ids = (await s.harpoon.createMany(Array.from({ length: COUNT }, (_, i) => big(i)))).map((e) => e.id);
  });
  afterAll(async () => {
    await s.close();
  });

  const get = (server: typeof s, path: string) =>
    httpRequest(
      server.server.url,
      { method: 'GET', path, headers: { authorization: `Bearer ${TOKEN}` } },
      30_000,
    );

  it('regression(response-bytes): GET /v1/events stops at 8 MiB and its cursor reads on to every event', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < COUNT; pages++) {
      const r = await get(s, `/v1/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      // main 8d054bf: one 12 MB answer (and at 560 events of 1 MB, a 500 "Invalid string length").
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(8 * MIB);
      const page = JSON.parse(r.body) as { events: { id: number }[]; nextCursor: string | null };
      expect(page.events.length).toBeGreaterThan(0);
      seen.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(ids);
  });

  it('regression(response-bytes): GET /v1/feed stops at 8 MiB with `more`, and its cursor reads on', async () => {
    const r = await get(s, '/v1/feed?cursor=0&limit=1000');
    expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(8 * MIB);
    const page = JSON.parse(r.body) as {
      events: { id: number; seq: number }[];
      cursor: number;
      more?: boolean;
    };
    expect(page.more).toBe(true);
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.length).toBeLessThan(COUNT);
    expect(page.cursor).toBe(page.events.at(-1)!.seq);
    const rest = JSON.parse((await get(s, `/v1/feed?cursor=${page.cursor}&limit=1`)).body) as typeof page;
    expect(rest.events.map((e) => e.id)).toEqual([ids[page.events.length]]);
  });

  it('regression(client-concat): HarpoonClient.readFeed returns a cut page as it is, with more, and reads on from it', async () => {
    // It used to concatenate cut pages up to `limit`: 12 MB in one page, undoing the server's bound.
    const page = await s.client.readFeed(0, { limit: COUNT });
    expect(page.more).toBe(true);
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.length).toBeLessThan(COUNT);
    expect(page.events.length * 500_000).toBeLessThanOrEqual(8 * MIB);
    const seen = page.events.map((e) => e.id);
    let at = page;
    for (let reads = 0; at.more && reads < COUNT; reads++) {
      at = await s.client.readFeed(at.cursor, { limit: COUNT });
      seen.push(...at.events.map((e) => e.id));
    }
    expect(seen).toEqual(ids);
    expect(at.more).toBeUndefined(); // caught up: a short page without `more`
    const limited = await s.client.readFeed(0, { limit: 3 });
    expect(limited.events.map((e) => e.id)).toEqual(ids.slice(0, 3));
    expect(limited.more).toBeUndefined();
    expect(limited.cursor).toBe(limited.events.at(-1)!.seq);
  });

  it('HarpoonClient.follow yields each cut page as it comes, in order, without gaps', async () => {
    const seen: number[] = [];
    const abort = new AbortController();
    for await (const page of s.client.follow(0, { signal: abort.signal, pollMs: 50 })) {
      seen.push(...page.events.map((e) => e.id));
      if (seen.length >= COUNT) abort.abort();
    }
    expect(seen).toEqual(ids);
  });

  it('always sends one event, even one larger than maxResponseBytes', async () => {
    const small = await memoryServer({ maxResponseBytes: 64 * 1024 });
    await small.harpoon.createMany([big(0), create(1), big(2)]);
    const r = await get(small, '/v1/events?limit=1000');
    const page = JSON.parse(r.body) as { events: { id: number }[]; nextCursor: string | null };
    expect(page.events).toHaveLength(1);
    expect(Buffer.byteLength(r.body)).toBeGreaterThan(64 * 1024);
    const next = JSON.parse(
      (await get(small, `/v1/events?limit=1000&cursor=${page.nextCursor}`)).body,
    ) as typeof page;
    // The small event goes alone: with the large one after it the page would pass the budget.
    expect(next.events.map((e) => e.id)).toEqual([page.events[0]!.id + 1]);
    expect((await small.client.query({ limit: 1_000 })).events).toHaveLength(1);
    await small.close();
  });
});
