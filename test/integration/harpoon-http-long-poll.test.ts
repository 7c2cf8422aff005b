/**
 * Feed long-polls (issue 13, finding 5): each ends at its `waitMs` even when garbage collection
 * runs (Node 20 can collect the timeout inside `AbortSignal.any`), waiting ones cost one shared
 * head read per `feedPollMs` instead of a feed read every 100 ms each, a commit wakes them at
 * once, and their number is bounded.
 */
import { BusyError } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { create } from '../contract/event-store.fixtures.js';
import { keepCollecting } from '../support/gc.js';
import { until } from '../support/until.js';
import { countCalls, serverPerTest, TOKEN } from './fixtures/harpoon-http-kit.js';
import { httpRequest } from './fixtures/security-http.js';

const served = serverPerTest();

const headers = { authorization: `Bearer ${TOKEN}` };
const longPoll = (s: Awaited<ReturnType<typeof served>>, waitMs: number, cursor = 0, timeoutMs = 10_000) =>
  httpRequest(
    s.server.url,
    { method: 'GET', path: `/v1/feed?cursor=${cursor}&waitMs=${waitMs}`, headers },
    timeoutMs,
  );

describe('feed long-polls', () => {
  it('regression(feed-longpoll-gc): every long-poll ends at waitMs while garbage collection runs', async () => {
    const s = await served();
    const stop = keepCollecting(20);
    try {
      const t0 = Date.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => longPoll(s, 300, 0, 8_000)));
      const took = Date.now() - t0;
      // main 8d054bf: the timeout signal inside AbortSignal.any() was collected; no answer in 8 s.
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(5_000);
      expect(JSON.parse(answers[0]!.body)).toEqual({ events: [], cursor: 0 });
    } finally {
      stop();
    }
  });

  it('regression(feed-longpoll-polling): 100 waiting long-polls read no feed while nothing commits, one shared head per poll', async () => {
    const s = await served(); // feedPollMs: 100 (the default)
    const feedReads = countCalls(s.store, 'readFeed');
    const headReads = countCalls(s.store, 'head');
    const waiting = Promise.all(Array.from({ length: 100 }, () => longPoll(s, 2_000)));
    await until(() => feedReads.count() >= 100, 'the first read of every long-poll');
    await new Promise((r) => setTimeout(r, 200));
    const [feed0, head0] = [feedReads.count(), headReads.count()];
    await new Promise((r) => setTimeout(r, 1_000));
    const [feed, head] = [feedReads.count() - feed0, headReads.count() - head0];
    // main 8d054bf: each long-poll read the feed every 100 ms: ~1,000 reads in this second.
    expect(feed).toBeLessThanOrEqual(5);
    expect(head).toBeGreaterThanOrEqual(3);
    expect(head).toBeLessThanOrEqual(15);
    expect((await waiting).every((a) => a.status === 200)).toBe(true);
  });

  it('a commit wakes every waiting long-poll at once, each with the new event', async () => {
    const s = await served({ feedPollMs: 5_000 });
    const head = await s.client.head();
    const waiting = Promise.all(Array.from({ length: 50 }, () => s.client.readFeed(head, { waitMs: 5_000 })));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const [e] = await s.harpoon.createMany([create(1)]);
    const pages = await waiting;
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(pages.map((p) => p.events.map((x) => x.id))).toEqual(Array(50).fill([e!.id]));
  });

  it('bounds the long-polls waiting at once: one more gets 429 BUSY with Retry-After', async () => {
    const s = await served({ maxLongPolls: 5 });
    const waiting = Promise.all(Array.from({ length: 5 }, () => longPoll(s, 1_500)));
    await new Promise((r) => setTimeout(r, 300));
    const refused = await longPoll(s, 1_500);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'BUSY', retryAfterMs: 1_000 } });
    await expect(s.client.readFeed(0, { waitMs: 1_000 })).rejects.toBeInstanceOf(BusyError);
    // A read that finds events never waits, so it is never refused.
    await s.harpoon.createMany([create(1)]);
    expect((await s.client.readFeed(0, { waitMs: 1_000 })).events).toHaveLength(1);
    await waiting;
  });

  it('HarpoonClient.follow backs off on 429 and follows on once a slot is free', async () => {
    const s = await served({ maxLongPolls: 1 });
    const head = await s.client.head();
    const blocker = longPoll(s, 800, head);
    await new Promise((r) => setTimeout(r, 200));
    const abort = new AbortController();
    const seen: number[] = [];
    const watching = (async () => {
      for await (const page of s.client.follow(head, { signal: abort.signal, pollMs: 500 })) {
        seen.push(...page.events.map((e) => e.id));
        abort.abort();
      }
    })();
    const [e] = await s.harpoon.createMany([create(2)]);
    await watching;
    await blocker;
    expect(seen).toEqual([e!.id]);
  });

  it('closing the server answers waiting long-polls at once', async () => {
    const s = await served();
    const waiting = longPoll(s, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await s.server.close();
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1_500);
  });

  it('regression(follow-signal): HarpoonClient.follow stops at once when its signal aborts mid long-poll', async () => {
    const s = await served();
    const reads = countCalls(s.harpoon, 'readFeed');
    const abort = new AbortController();
    const pages: unknown[] = [];
    // pollMs 20 s: the client's long-poll waits on the server; stopping must not wait for it.
    const following = (async () => {
      for await (const page of s.client.follow(0, { signal: abort.signal, pollMs: 20_000 })) pages.push(page);
    })();
    await until(() => reads.count() >= 1, 'the long-poll read the feed');
    await new Promise((r) => setTimeout(r, 200)); // now waiting on the server
    const t0 = Date.now();
    abort.abort();
    await following;
    // main 3d9e261: the signal never reached fetch; follow ended when the 20 s long-poll did.
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(pages).toEqual([]);
  });
});
