/**
 * Work many connections can make Harpoon's HTTP server do at once: page reads take turns
 * (`maxPageReads`) and a connection that closes with pipelined requests waiting lets them go
 * without an error each. Both were found by the abuse suite's `pipelined-gets` attack: 40
 * connections pipelining 1,000-event reads delayed the good client's creates by up to 400 ms.
 */
import { describe, expect, it } from 'vitest';
import { create } from '../contract/event-store.fixtures.js';
import { until } from '../support/until.js';
import { openSocket, rawGet, serverPerTest, TOKEN } from './fixtures/harpoon-http-kit.js';

const served = serverPerTest();
type Served = Awaited<ReturnType<typeof served>>;

/** Each call of `harpoon.query` (a page read's store read) lasts `ms` longer; counts them in flight. */
function slowQueries(s: Served, ms: number): { max: () => number; now: () => number; calls: () => number } {
  const query = s.harpoon.query.bind(s.harpoon);
  let inFlight = 0;
  let max = 0;
  let calls = 0;
  s.harpoon.query = async (q) => {
    calls++;
    max = Math.max(max, ++inFlight);
    try {
      await new Promise((r) => setTimeout(r, ms));
      return await query(q);
    } finally {
      inFlight--;
    }
  };
  return { max: () => max, now: () => inFlight, calls: () => calls };
}

const get = (s: Served, path: string) =>
  fetch(`http://127.0.0.1:${s.port}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });

/** ECONNRESET errors whose stack was formatted while `run` ran (Node formats each it destroys a request with). */
async function formattedResets(run: () => Promise<void>): Promise<number> {
  const original = Error.prepareStackTrace;
  let n = 0;
  Error.prepareStackTrace = (err, frames) => {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') n++;
    return `${err}\n${frames.map((f) => `    at ${f}`).join('\n')}`;
  };
  try {
    await run();
  } finally {
    Error.prepareStackTrace = original;
  }
  return n;
}

describe('page reads take turns', () => {
  it('regression(pipelined-gets): 10 connections reading pages at once run at most maxPageReads of them', async () => {
    const s = await served({ maxPageReads: 2 });
    await s.harpoon.createMany(Array.from({ length: 20 }, (_, i) => create(i)));
    const reads = slowQueries(s, 30);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => get(s, `/v1/events?limit=${10 + i}`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    // Before: every page read at once (10).
    expect(reads.max()).toBe(2);
  });

  it('a page read whose caller left while it waited for its turn never runs', async () => {
    const s = await served({ maxPageReads: 1 });
    await s.harpoon.createMany(Array.from({ length: 5 }, (_, i) => create(i)));
    const reads = slowQueries(s, 300);
    const first = get(s, '/v1/events?limit=5');
    await until(() => reads.now() === 1, 'the first read to run', 2_000);
    const gone = Array.from({ length: 5 }, () => new AbortController());
    const waiting = gone.map((c) =>
      fetch(`http://127.0.0.1:${s.port}/v1/events?limit=5`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: c.signal,
      }).catch(() => null),
    );
    await new Promise((r) => setTimeout(r, 100));
    for (const c of gone) c.abort();
    await Promise.all(waiting);
    const t0 = Date.now();
    expect((await get(s, '/v1/events?limit=5')).status).toBe(200);
    expect((await first).status).toBe(200);
    // Before: each abandoned read still ran in its turn (5 × 300 ms ahead of the live one).
    expect(reads.calls()).toBe(2);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('a waiting long-poll holds no turn', async () => {
    const s = await served({ maxPageReads: 1 });
    const head = await s.harpoon.head();
    const polls = Array.from({ length: 3 }, () => get(s, `/v1/feed?cursor=${head}&waitMs=3000`));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    const page = await get(s, '/v1/events?limit=10');
    expect(page.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await s.harpoon.create(create(1));
    for (const p of await Promise.all(polls)) expect(p.status).toBe(200);
  });

  it('rejects a maxPageReads below 1, naming the field', async () => {
    await expect(served({ maxPageReads: 0 })).rejects.toThrow(/maxPageReads/);
  });
});

describe('a connection closed with requests waiting', () => {
  it('regression(pipelined-gets): its waiting requests go without an ECONNRESET stack each', async () => {
    const s = await served();
    await s.harpoon.createMany(Array.from({ length: 20 }, (_, i) => create(i)));
    const reads = slowQueries(s, 200);
    const resets = await formattedResets(async () => {
      const { socket, closed } = await openSocket(s.port);
      socket.write(rawGet('/v1/events?limit=5').repeat(15));
      await until(() => reads.now() === 1, 'the first request to run', 2_000);
      socket.destroy();
      await until(() => closed() !== null, 'the close', 2_000);
      await new Promise((r) => setTimeout(r, 300));
    });
    // Before: one formatted ECONNRESET per request Node still held (15); now the running one only
    // (which also shows the count sees Node's errors at all).
    expect(resets).toBe(1);
  });

  it('regression(pipelined-gets): past maxPipelinedRequests the rest of the pipeline goes the same way', async () => {
    const s = await served({ maxPipelinedRequests: 4 });
    await s.harpoon.createMany(Array.from({ length: 20 }, (_, i) => create(i)));
    const reads = slowQueries(s, 200);
    const resets = await formattedResets(async () => {
      const { socket, closed } = await openSocket(s.port);
      socket.write(rawGet('/v1/events?limit=5').repeat(200));
      await until(() => closed() !== null, 'the server to close the connection', 2_000);
      await new Promise((r) => setTimeout(r, 300));
    });
    // Before: the overflow closed the connection and Node formatted one error per parsed request
    // (200); now the running one only.
    expect(reads.calls()).toBe(1);
    expect(resets).toBe(1);
  });
});
