/**
 * The router's WebSocket endpoint, on `ws`. Plain TCP, or TLS when `tls` (the usual
 * `https.createServer` options) is given; or attach to a server you already run. On a server it
 * owns, a request that is not a WebSocket upgrade is answered `426 Upgrade Required` and closed,
 * and a request whose headers are not complete within `headersTimeoutMs` is dropped, so plain or
 * slow HTTP clients cannot hold the port's connections.
 *
 * @module
 */
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CLOSE_CODES, MAX_FRAME_BYTES, type TransportServer, UnavailableError } from '@ctlplane/core';
import { parseOrThrow, type TransportConnection } from '@ctlplane/core/driver';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { WsConnection } from './ws-connection.js';

/** Options of {@link WsTransportServer}. */
export interface WsTransportServerOptions {
  /** Interface to bind (default `127.0.0.1`). Ignored with `server`. */
  host?: string;
  /** Port (default 0: any free port; read it from `url` after `listen`). Ignored with `server`. */
  port?: number;
  /** URL path agents connect to (default `/agents`). */
  path?: string;
  /** TLS: `https.createServer` options (`key`, `cert`, `ca`, `requestCert`, …). Agents then use `wss://`. */
  tls?: HttpsServerOptions;
  /** An http or https server you run; the endpoint attaches to it and you close it. */
  server?: HttpServer;
  /**
   * Largest frame accepted from an agent, in bytes (default {@link MAX_FRAME_BYTES}, 1 MiB); a
   * larger one closes that connection with 4004 `protocol-error` before it is read in full.
   */
  maxPayload?: number;
  /**
   * A connection whose request headers are not complete within this long is dropped (default
   * 10,000 ms). Only on a server this endpoint owns: with `server`, set your server's
   * `headersTimeout` yourself.
   */
  headersTimeoutMs?: number;
  /** Pending TCP connections the kernel may queue (default 4,096). */
  backlog?: number;
  /** After a close, a peer that does not answer within this long is cut off (default 5,000 ms). */
  closeTimeoutMs?: number;
}

const schema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(0),
    path: z.string().startsWith('/').default('/agents'),
    tls: z.object({}).passthrough().optional(),
    server: z.custom<HttpServer>((v) => typeof v === 'object' && v !== null && 'listen' in v).optional(),
    maxPayload: z
      .number()
      .int()
      .min(1_024)
      .max(1024 ** 3)
      .default(MAX_FRAME_BYTES),
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    backlog: z.number().int().min(1).max(65_535).default(4_096),
    closeTimeoutMs: z.number().int().min(1).max(600_000).default(5_000),
  })
  .strict();

/**
 * Accepts agents over WebSocket.
 *
 * @example
 * ```ts
 * const server = new WsTransportServer({ host: '0.0.0.0', port: 7100, tls: { key, cert } });
 * await router.listen(server); // agents connect to wss://<host>:7100/agents
 * ```
 */
export class WsTransportServer implements TransportServer {
  readonly #o: z.output<typeof schema>;
  readonly #tls: HttpsServerOptions | undefined;
  #http: HttpServer | null = null;
  #wss: WebSocketServer | null = null;
  #url = '';
  #closing: Promise<void> | null = null;

  /** @param options - where to listen, TLS and limits; validated here */
  constructor(options: WsTransportServerOptions = {}) {
    this.#o = parseOrThrow(schema, options, 'WsTransportServer options');
    this.#tls = options.tls;
  }

  /** `ws://host:port/path` (or `wss://`), known once listening. */
  get url(): string {
    return this.#url;
  }

  /** The bound port, once listening. */
  get port(): number {
    return Number(new URL(this.#url || 'ws://x:0').port);
  }

  async listen(accept: (connection: TransportConnection) => void): Promise<void> {
    if (this.#wss) throw new UnavailableError(`already listening at ${this.#url}`);
    const o = this.#o;
    const owned = !o.server;
    const http = o.server ?? this.#createServer();
    const wss = new WebSocketServer({
      server: http,
      path: o.path,
      maxPayload: o.maxPayload,
      perMessageDeflate: false,
      WebSocket: agentSocket(o.maxPayload),
    });
    wss.on('connection', (ws, req) => {
      const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
      ws.on('error', () => {});
      accept(new WsConnection(ws, remote, o.closeTimeoutMs));
    });
    wss.on('error', () => {});
    if (owned) {
      await new Promise<void>((resolve, reject) => {
        http.once('error', (err) =>
          reject(new UnavailableError(`cannot listen on ${o.host}:${o.port}`, { cause: err })),
        );
        http.listen({ host: o.host, port: o.port, backlog: o.backlog }, resolve);
      });
    }
    const addr = http.address() as AddressInfo | null;
    const secure = Boolean(this.#tls) || 'setSecureContext' in http;
    const host = addr ? (addr.family === 'IPv6' ? `[${addr.address}]` : addr.address) : o.host;
    this.#url = `${secure ? 'wss' : 'ws'}://${host}:${addr?.port ?? o.port}${o.path}`;
    this.#http = owned ? http : null;
    this.#wss = wss;
  }

  /** An http(s) server that answers anything but an upgrade with 426 and bounds slow headers. */
  #createServer(): HttpServer {
    const { headersTimeoutMs } = this.#o;
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default): much later.
    const limits = {
      headersTimeout: headersTimeoutMs,
      requestTimeout: headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
    };
    const http = this.#tls ? createHttpsServer({ ...this.#tls, ...limits }) : createHttpServer(limits);
    http.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(426, { connection: 'close', upgrade: 'websocket', 'content-type': 'text/plain' });
      res.end('this port serves ctlplane agents over WebSocket\n');
    });
    return http;
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      const wss = this.#wss;
      if (!wss) return;
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const http = this.#http;
      if (http) {
        http.closeAllConnections?.();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      }
    })();
    return this.#closing;
  }
}

/**
 * The router's side of an agent's socket. ws closes a connection on a frame it refuses (too large,
 * in too many fragments, not UTF-8, malformed) with a WebSocket code of its own; ctlplane documents 4004
 * `protocol-error` for every bad frame, so those closes carry it.
 */
function agentSocket(maxPayload: number): typeof WebSocket {
  const refused = new Map<number, string>([
    [1002, 'invalid WebSocket frame'],
    [1007, 'frame is not valid UTF-8'],
    [1008, 'frame in too many fragments'],
    [1009, `frame larger than ${maxPayload} bytes`],
  ]);
  return class AgentSocket extends WebSocket {
    override close(code?: number, data?: string | Buffer): void {
      const reason = code === undefined ? undefined : refused.get(code);
      if (reason) super.close(CLOSE_CODES['protocol-error'], reason);
      else super.close(code, data);
    }
  };
}
