/**
 * HarpoonClient's pooled connections and Harpoon's keep-alive timeout: the client closes an idle
 * connection before Harpoon does, so that no request is written on a connection the server is
 * closing (ECONNRESET, outcome unknown); a connection in use is not cut by that idle timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HarpoonClient } from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { KEEP_ALIVE_TIMEOUT_MS } from '../../packages/core/src/harpoon/http/server-options.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A bare HTTP server with Harpoon's keep-alive timeout and this handler, closed after the test. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return server;
}

function client(server: Server) {
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const c = new HarpoonClient({ url, token: 'keepalive-token-0123456789' });
  closers.push(() => c.close());
  return c;
}

describe('HarpoonClient connections', () => {
  it('closes an idle connection itself, before Harpoon would (KEEP_ALIVE_TIMEOUT_MS)', async () => {
    // Which side ends the idle connection is seen on the server's socket ('end' only when the
    // client closed it).
    const ended: number[] = [];
    const closed: number[] = [];
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"head":7}');
    });
    server.on('connection', (socket) => {
      socket.on('end', () => ended.push(Date.now()));
      socket.on('close', () => closed.push(Date.now()));
    });
    const c = client(server);
    expect(await c.head()).toBe(7);
    const answered = Date.now();
    await expect.poll(() => closed.length, { timeout: KEEP_ALIVE_TIMEOUT_MS + 2_000 }).toBe(1);
    // Before: Node 20's agent had no `timeout`, ignored the server's hint, and the server closed
    // the connection at 5 s (no 'end' from the client).
    expect(ended).toHaveLength(1);
    expect(closed[0]! - answered).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS - 500);
  });

  it('does not cut a slow answer on a pooled connection (the idle timeout applies to idle ones only)', async () => {
    const server = await listen((_req, res) => {
      setTimeout(() => res.writeHead(200).end('{"head":1}'), KEEP_ALIVE_TIMEOUT_MS);
    });
    expect(await client(server).head()).toBe(1);
  });
});
