/**
 * The router's WebSocket port as a port: plain and slow HTTP requests (issue 13, finding 9) and
 * frames ws itself refuses, closed with the documented 4004 rather than ws's own 1009 or 1007.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach, startWsAgents, startWsRouter } from './fixtures/router-harness.js';
import { countDone, Ledger, memoryStore, placeEvents, until } from './fixtures/router-kit.js';
import { RawClient } from './fixtures/router-net.js';

const cleanups = cleanupAfterEach();

/** A raw TCP connection that records when the server closes it and what it answered. */
function tcp(
  port: number,
  text: string,
): { socket: Socket; answer: () => string; closedAt: () => number | null } {
  const socket = connect(port, '127.0.0.1', () => socket.write(text));
  let answer = '';
  let closedAt: number | null = null;
  socket.on('data', (d) => {
    answer += d.toString('latin1');
  });
  socket.on('close', () => {
    closedAt = Date.now();
  });
  socket.on('error', () => {});
  cleanups.push(async () => void socket.destroy());
  return { socket, answer: () => answer, closedAt: () => closedAt };
}

describe('EventRouter WebSocket port', () => {
  it('closes an oversized frame and a text frame of invalid UTF-8 with 4004, as documented', async () => {
    const { url } = await startWsRouter({ store: memoryStore(), cleanups });
    const big = new RawClient(url);
    await big.opened();
    big.send(`{"type":"hello","token":"${'x'.repeat(1024 * 1024)}"}`);
    await until(() => big.closed !== null, 'the oversized frame refused');
    expect(big.closed).toEqual({ code: 4004, reason: 'frame larger than 1048576 bytes' });
    const invalid = new RawClient(url);
    await invalid.opened();
    // A masked text frame whose payload is not UTF-8, written raw: ws refuses it before the router sees it.
    (invalid.ws as unknown as { _socket: Socket })._socket.write(
      Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]),
    );
    await until(() => invalid.closed !== null, 'the invalid frame refused');
    expect(invalid.closed).toEqual({ code: 4004, reason: 'frame is not valid UTF-8' });
  });

  it('regression(13.9): answers plain HTTP with 426 and closes; drops slow headers after headersTimeoutMs', async () => {
    const store = memoryStore();
    const { port, url } = await startWsRouter({ store, cleanups, server: { headersTimeoutMs: 500 } });
    const started = Date.now();
    const plain = tcp(port, 'GET /agents HTTP/1.1\r\nHost: x\r\n\r\n');
    const post = tcp(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n${'b'.repeat(65_536)}`,
    );
    const slow = tcp(port, 'GET /agents HTTP/1.1\r\nHost: x\r\n');
    await until(
      () => plain.closedAt() !== null && post.closedAt() !== null,
      'plain requests answered',
      5_000,
    );
    expect(plain.answer()).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(post.answer()).toMatch(/^HTTP\/1\.1 426 /);
    await until(() => slow.closedAt() !== null, 'slow headers dropped', 5_000);
    expect(slow.closedAt()! - started).toBeLessThan(3_000);
    // An agent's upgraded connection is not a request: it outlives the header timeout.
    const ledger = new Ledger();
    await startWsAgents({ servers: ['hv-1'], url, ledger, cleanups });
    await new Promise((r) => setTimeout(r, 1_500));
    await placeEvents(store, 2, () => 'hv-1');
    await until(async () => (await countDone(store)) === 2, 'the agent served after 1.5 s');
  });
});
