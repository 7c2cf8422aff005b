/**
 * HarpoonClient's pooled connections and Harpoon's keep-alive timeout: the client closes an idle
 * connection before Harpoon does, so that no request is written on a connection the server is
 * closing (ECONNRESET, outcome unknown); a connection in use is not cut by that idle timeout.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { HarpoonClient } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { KEEP_ALIVE_TIMEOUT_MS } from '../../packages/core/src/harpoon/http/server-options.js';
import { cleanupAfterEach, listenPlain } from './fixtures/harpoon-http-kit.js';

const onCleanup = cleanupAfterEach();

/** A bare HTTP server on 127.0.0.1 with this handler, closed after the test. */
const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> =>
  (await listenPlain(onCleanup, handler, KEEP_ALIVE_TIMEOUT_MS)).server;

function client(server: Server) {
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const c = new HarpoonClient({ url, token: 'keepalive-token-0123456789' });
  onCleanup(() => c.close());
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
