/**
 * Raw clients for the attacks: a TCP socket that writes bytes and reads what comes back, an HTTP
 * request through node:http, and a WebSocket client that records how it was closed.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { sleep } from '@ctlplane/core';
import WebSocket from 'ws';

/** What a raw exchange saw. */
export interface RawResult {
  /** The first response line (`HTTP/1.1 400 Bad Request`), or '' when none came. */
  readonly status: string;
  /** Every byte received, as latin1 text (bounded by `maxRead`). */
  readonly text: string;
  /** True when the server closed the connection within the wait. */
  readonly closed: boolean;
  /** Milliseconds from connect to close (or to the end of the wait). */
  readonly ms: number;
}

/**
 * Connect, write `data` (one write, or each chunk in turn), then read until the server closes or
 * `waitMs` passes; the socket is destroyed afterwards.
 */
export function raw(
  host: string,
  port: number,
  data: string | Buffer | readonly (string | Buffer)[],
  waitMs: number,
  maxRead = 1 << 20,
): Promise<RawResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket: Socket = connect({ host, port });
    const chunks: Buffer[] = [];
    let size = 0;
    let closed = false;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({
        status: /^HTTP\/1\.\d \d{3}[^\r\n]*/.exec(text)?.[0] ?? '',
        text,
        closed,
        ms: Date.now() - t0,
      });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('connect', () => {
      for (const chunk of Array.isArray(data) ? data : [data]) socket.write(chunk as string | Buffer);
    });
    socket.on('data', (c: Buffer) => {
      if (size < maxRead) chunks.push(c);
      size += c.length;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      done();
    });
  });
}

/** The status of `GET|POST path` (0 when the request failed), its body text (first `keep` bytes, default 64 KiB) and size. */
export function http(
  url: string,
  o: {
    method?: string;
    path: string;
    token?: string;
    body?: string | Buffer;
    timeoutMs?: number;
    keep?: number;
  },
): Promise<{ status: number; body: string; ms: number; bytes: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(o.body));
    }
    const req = request(`${url}${o.path}`, { method: o.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < (o.keep ?? 65_536)) chunks.push(c);
        size += c.length;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: Date.now() - t0,
          bytes: size,
        }),
      );
      res.on('error', () =>
        resolve({ status: res.statusCode ?? 0, body: '', ms: Date.now() - t0, bytes: size }),
      );
    });
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '', ms: Date.now() - t0, bytes: 0 }));
    req.end(o.body);
  });
}

/** A WebSocket to the router and how it ended. */
export interface WsProbe {
  readonly ws: WebSocket;
  /** Resolves with the close code (1006 when the connection just dropped) and reason. */
  readonly closed: Promise<{ code: number; reason: string; ms: number }>;
  /** Frames received, parsed when they are JSON. */
  readonly frames: unknown[];
}

/** Open a WebSocket (no frame sent); resolves once open, or with the close when refused. */
export async function openWs(url: string, maxPayload = 64 * 1024 * 1024): Promise<WsProbe> {
  const t0 = Date.now();
  const ws = new WebSocket(url, { maxPayload, perMessageDeflate: false });
  const frames: unknown[] = [];
  ws.on('message', (data) => {
    try {
      frames.push(JSON.parse(String(data)));
    } catch {
      frames.push(String(data));
    }
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string; ms: number }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason), ms: Date.now() - t0 })),
  );
  await Promise.race([new Promise((r) => ws.once('open', r)), closed]);
  return { ws, closed, frames };
}

/** Wait for `probe` to close, at most `ms`; null when it stayed open (then it is terminated). */
export async function closedWithin(
  probe: WsProbe,
  ms: number,
): Promise<{ code: number; reason: string; ms: number } | null> {
  const r = await Promise.race([probe.closed, sleep(ms).then(() => null)]);
  if (!r) probe.ws.terminate();
  return r;
}

/** Say `hello` as `serverId` with `token` and wait (≤ 5 s) for the welcome; null when refused. */
export async function helloAgent(
  url: string,
  serverId: string,
  token: string,
  cursor: number | null = null,
): Promise<WsProbe | null> {
  const probe = await openWs(url);
  if (probe.ws.readyState !== WebSocket.OPEN) return null;
  probe.ws.send(JSON.stringify({ type: 'hello', protocol: 1, token, serverId, cursor }));
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (probe.frames.some((f) => (f as { type?: string }).type === 'welcome')) return probe;
    if (probe.ws.readyState !== WebSocket.OPEN) return null;
    await sleep(10);
  }
  probe.ws.terminate();
  return null;
}
