/**
 * What one connection can make Harpoon's HTTP server do: pipelined requests run one at a time and
 * a bounded number wait, a connection that stops reading is let go, and a body the server refuses
 * is never drained (issue 13, findings 3 and 10).
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { create } from '../contract/event-store.fixtures.js';
import { gcFunction } from '../support/gc.js';
import { until } from '../support/until.js';
import { countCalls, openSocket, rawGet, serverPerTest, TOKEN } from './fixtures/harpoon-http-kit.js';

const MIB = 1024 * 1024;
const served = serverPerTest();

/** 1,000 events of ~1 kB: one `limit=1000` page is ~1.3 MB of JSON. */
async function seed(s: Awaited<ReturnType<typeof served>>): Promise<void> {
  const image = 'x'.repeat(1_000);
  for (let b = 0; b < 2; b++)
    await s.harpoon.createMany(
      Array.from({ length: 500 }, (_, i) => create(i, { payload: { vcpus: 1, memoryMb: 1, image } })),
    );
}

/** Write up to `total` bytes of body as fast as the socket takes them; stop when it closes. */
async function pushBody(socket: Socket, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let queued = 0;
  while (queued < total && !socket.destroyed && socket.writable) {
    queued += chunk.length;
    if (!socket.write(chunk))
      await new Promise<void>((r) => {
        socket.once('drain', r);
        socket.once('close', r);
      });
  }
  return socket.bytesWritten;
}

describe('one connection, many requests', () => {
  it('regression(pipelined-balloon): 200 pipelined 1,000-event reads never read run a few, then the connection closes', async () => {
    const s = await served();
    await seed(s);
    const queries = countCalls(s.harpoon, 'query');
    const gc = gcFunction();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const { socket, closed } = await openSocket(s.port);
    socket.pause(); // never read an answer
    socket.write(rawGet('/v1/events?limit=1000').repeat(200));
    await until(() => closed() !== null, 'the server to close the connection', 5_000).catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    gc();
    const grownMib = (process.memoryUsage().heapUsed - heapBefore) / MIB;
    socket.destroy();
    // main 8d054bf: all 200 ran, each answer (~1.3 MB) held in memory: +250 MB of heap.
    expect(queries.count()).toBeLessThanOrEqual(3);
    expect(closed(), 'more than maxPipelinedRequests waiting closes the connection').not.toBeNull();
    expect(grownMib).toBeLessThan(40);
    expect((await s.client.query({ limit: 1 })).events).toHaveLength(1);
  });

  it('regression(pipelined-balloon): pipelined requests within the bound are answered in order, one at a time', async () => {
    const s = await served();
    const ids = (await s.harpoon.createMany(Array.from({ length: 8 }, (_, i) => create(i)))).map((e) => e.id);
    let inFlight = 0;
    let maxInFlight = 0;
    const get = s.harpoon.get.bind(s.harpoon);
    s.harpoon.get = async (id) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await get(id);
      } finally {
        inFlight--;
      }
    };
    const { socket } = await openSocket(s.port);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(ids.map((id) => rawGet(`/v1/events/${id}`)).join(''));
    const answered = () => [
      ...Buffer.concat(chunks)
        .toString()
        .matchAll(/"event":\{"id":(\d+)/g),
    ];
    await until(() => answered().length === ids.length, 'eight answers', 5_000);
    socket.destroy();
    expect(answered().map((m) => Number(m[1]))).toEqual(ids);
    expect(maxInFlight).toBe(1);
  });

  it('closes a connection that stops reading after idleTimeoutMs; its queued requests never run', async () => {
    const s = await served({ maxWaitMs: 500, idleTimeoutMs: 1_500 });
    await seed(s);
    const queries = countCalls(s.harpoon, 'query');
    // Store reads one answered request makes (a page is read in chunks).
    const one = await fetch(`http://127.0.0.1:${s.port}/v1/events?limit=1000`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(one.status).toBe(200);
    await one.arrayBuffer();
    const perRequest = queries.count();
    const { socket, closed } = await openSocket(s.port);
    let reply = '';
    socket.on('data', (c: Buffer) => {
      reply += c.toString('latin1');
    });
    socket.pause();
    socket.write(rawGet('/v1/events?limit=1000').repeat(10));
    // Kernel buffers take a few answers; then nothing moves, and the server lets the connection go.
    await new Promise((r) => setTimeout(r, 4_500));
    const ran = queries.count() - perRequest;
    const resumed = Date.now();
    socket.resume();
    await until(() => closed() !== null, 'the end of the connection', 5_000);
    // main 8d054bf: no idle limit; once read, all 10 answers came (and the connection stayed open).
    expect(closed()! - resumed).toBeLessThan(1_000);
    expect(reply.match(/HTTP\/1\.1 200 /g)?.length ?? 0).toBeLessThan(10);
    expect(queries.count() - perRequest).toBe(ran);
    expect(ran).toBeLessThan(10 * perRequest);
  });
});

describe('refused bodies', () => {
  const auth = `Authorization: Bearer ${TOKEN}\r\n`;
  const cases: Array<[string, string, number]> = [
    ['no token', 'POST /v1/events HTTP/1.1\r\nHost: x\r\n', 401],
    ['an unknown route', `POST /v1/nope HTTP/1.1\r\nHost: x\r\n${auth}`, 404],
    ['a wrong method', `PUT /v1/events HTTP/1.1\r\nHost: x\r\n${auth}`, 405],
  ];

  it.each([
    ...cases.map(([n, h, st]) => [`regression(refused-body-drain): ${n}`, h, st] as const),
    // Closed on main 8d054bf too, after reading maxBodyBytes; now before reading a byte.
    ['a declared length over maxBodyBytes', `POST /v1/events HTTP/1.1\r\nHost: x\r\n${auth}`, 413] as const,
  ])('%s is answered before the body and the connection closed, not drained', async (_name, head, status) => {
    const s = await served({ maxBodyBytes: MIB });
    const { socket, closed } = await openSocket(s.port);
    let reply = '';
    socket.on('data', (c: Buffer) => {
      reply += c.toString('latin1');
    });
    socket.write(`${head}Content-Type: application/json\r\nContent-Length: ${100 * MIB}\r\n\r\n`);
    const written = await pushBody(socket, 32 * MIB);
    await until(() => closed() !== null, 'the server to close the connection', 3_000);
    // main 8d054bf: 401/404/405 kept the connection and read all 32 MiB (of 100 announced).
    expect(reply).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(written).toBeLessThan(16 * MIB);
  });

  it('regression(refused-body-drain): a chunked body without a token is refused and the connection closed', async () => {
    const s = await served();
    const { socket, closed } = await openSocket(s.port);
    let reply = '';
    socket.on('data', (c: Buffer) => {
      reply += c.toString('latin1');
    });
    socket.write('POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `${(64 * 1024).toString(16)}\r\n${'a'.repeat(64 * 1024)}\r\n`;
    for (let i = 0; i < 512 && !socket.destroyed && closed() === null; i++) {
      if (!socket.write(chunk)) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => closed() !== null, 'the server to close the connection', 3_000);
    expect(reply).toMatch(/^HTTP\/1\.1 401 /);
    expect(socket.bytesWritten).toBeLessThan(16 * MIB);
  });
});
