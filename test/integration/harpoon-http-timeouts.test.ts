/**
 * The connection timeouts of Harpoon's HTTP server, measured against what SECURITY.md states:
 * headers within 20 s (it was 38 s measured: Node checked every 30 s), a whole request within
 * `requestTimeoutMs`, an idle keep-alive connection kept 5 s. Runs ~21 s (the documented default
 * is what is measured); the cases run concurrently.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { memoryServer, openSocket, rawGet, TOKEN } from './fixtures/harpoon-http-kit.js';

const servers: Awaited<ReturnType<typeof memoryServer>>[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});
async function served(options: Parameters<typeof memoryServer>[0] = {}) {
  const s = await memoryServer(options);
  servers.push(s);
  return s;
}

/** Open a connection, run `act` on it, and return how long after `act` the server closed it. */
async function closedAfter(port: number, act: (write: (s: string) => void) => void, limitMs: number) {
  const { socket, closed } = await openSocket(port);
  let reply = '';
  socket.on('data', (c: Buffer) => {
    reply += c.toString('latin1');
  });
  const t0 = Date.now();
  act((s) => socket.write(s));
  await until(() => closed() !== null, 'the server to close the connection', limitMs, 50);
  return { ms: closed()! - t0, reply };
}

describe.concurrent('connection timeouts', () => {
  it('regression(headers-timeout-38s): headers that never end are cut at 20 s (±1 s), however slowly they trickle', async () => {
    const s = await served();
    let trickle: NodeJS.Timeout | undefined;
    const { ms, reply } = await closedAfter(
      s.port,
      (write) => {
        write('GET /v1/head HTTP/1.1\r\nHost: x\r\n');
        trickle = setInterval(() => write('X-Slow: 1\r\n'), 5_000);
      },
      45_000,
    );
    clearInterval(trickle);
    // main 8d054bf: 20 s on paper, checked every 30 s: closed after 20–50 s (38 s measured).
    expect(ms).toBeGreaterThanOrEqual(19_500);
    expect(ms).toBeLessThan(21_500);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  }, 60_000);

  it('a body that never ends is cut at requestTimeoutMs (±1 s) with 408', async () => {
    const s = await served({ headersTimeoutMs: 2_000, requestTimeoutMs: 3_000 });
    const { ms, reply } = await closedAfter(
      s.port,
      (write) =>
        write(
          `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100\r\n\r\n{`,
        ),
      10_000,
    );
    expect(ms).toBeGreaterThanOrEqual(2_900);
    expect(ms).toBeLessThan(4_500);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('an idle keep-alive connection is closed 5 s after its last answer', async () => {
    const s = await served();
    const idle = await closedAfter(s.port, (write) => write(rawGet('/v1/head')), 10_000);
    expect(idle.reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(idle.ms).toBeGreaterThanOrEqual(4_900);
    expect(idle.ms).toBeLessThan(6_500);
  });

  it('a long-poll waits past requestTimeoutMs: the request had arrived, only the answer waits', async () => {
    const s = await served({ headersTimeoutMs: 2_000, requestTimeoutMs: 3_000, maxWaitMs: 7_000 });
    const poll = await closedAfter(s.port, (write) => write(rawGet('/v1/feed?cursor=0&waitMs=7000')), 20_000);
    expect(poll.reply).toMatch(/^HTTP\/1\.1 200 /);
    // 7 s of waiting, then 5 s of keep-alive.
    expect(poll.ms).toBeGreaterThanOrEqual(11_900);
  }, 30_000);
});
