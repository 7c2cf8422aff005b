/**
 * Harpoon over HTTP + JSON: every request authenticated with a service's bearer token, validated
 * with zod, answered with the event JSON or a typed error body.
 *
 * @module
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ValidationError } from '../../errors.js';
import type { EventTypeMap } from '../../events/registry.js';
import { type Logger, noopLogger } from '../../logger.js';
import { parseOrThrow } from '../../validation.js';
import type { Harpoon } from '../harpoon.js';
import { type ServiceToken, serviceTokenSchema, TokenAuthenticator } from './auth.js';
import { encodeError } from './error-codec.js';
import { ROUTES } from './routes.js';

/** Options of {@link HarpoonHttpServer}. */
export interface HarpoonHttpServerOptions<M extends EventTypeMap = EventTypeMap> {
  /** The in-process Harpoon to serve. */
  harpoon: Harpoon<M>;
  /** The services allowed in, each with its own token (at least one). */
  tokens: readonly ServiceToken[];
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port; see `url`). */
  port?: number;
  /** Largest request body (default 8 MiB): larger gets 413. */
  maxBodyBytes?: number;
  /** Longest `waitMs` of a feed long-poll (default 30,000). */
  maxWaitMs?: number;
  /** Serve HTTPS with these options (key, cert, ca, …). */
  tls?: HttpsOptions;
  /** Logger (default: no-op). Tokens are never logged. */
  logger?: Logger;
}

const schema = z
  .object({
    tokens: z.array(serviceTokenSchema).min(1, 'give at least one service token'),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(0),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    maxWaitMs: z.number().int().min(0).max(300_000).default(30_000),
  })
  .strict();

/**
 * Serves a Harpoon to other processes.
 *
 * @example
 * ```ts
 * const server = new HarpoonHttpServer({ harpoon, tokens: [{ service: 'scheduler', token: process.env.SCHEDULER_TOKEN! }] });
 * await server.listen();
 * console.log(server.url);
 * ```
 */
export class HarpoonHttpServer<M extends EventTypeMap = EventTypeMap> {
  readonly #harpoon: Harpoon;
  readonly #o: z.output<typeof schema>;
  readonly #auth: TokenAuthenticator;
  readonly #server: Server;
  readonly #log: Logger;
  #closing: Promise<void> | null = null;

  /** @param options - what to serve and to whom; validated here */
  constructor(options: HarpoonHttpServerOptions<M>) {
    const { harpoon, tls, logger, ...rest } = options;
    this.#o = parseOrThrow(schema, rest, 'HarpoonHttpServer options');
    // Routes validate payloads through the store's registry at run time; the static type is M's.
    this.#harpoon = harpoon as unknown as Harpoon;
    this.#auth = new TokenAuthenticator(this.#o.tokens);
    this.#log = (logger ?? noopLogger).child('harpoon:http');
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    this.#server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
    this.#server.requestTimeout = this.#o.maxWaitMs + 30_000;
    this.#server.headersTimeout = 20_000;
  }

  /** `http(s)://host:port` once listening. */
  get url(): string {
    const a = this.#server.address() as AddressInfo | null;
    if (!a) throw new Error('HarpoonHttpServer is not listening');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${'cert' in this.#server ? 'https' : 'http'}://${host}:${a.port}`;
  }

  /** Start listening. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stop accepting connections and close idle ones (idempotent). */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      setTimeout(() => this.#server.closeAllConnections(), 1_000).unref();
    });
    return this.#closing;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    try {
      const url = new URL(req.url ?? '/', 'http://harpoon');
      if (req.method === 'GET' && url.pathname === '/v1/health') {
        return send(res, 200, { ok: true, ...this.#harpoon.stats });
      }
      const candidates = ROUTES.filter((r) => r.pattern.test(url.pathname));
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        const status = candidates.length > 0 ? 405 : 404;
        return send(res, status, {
          error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` },
        });
      }
      this.#auth.authorize(req.headers.authorization, route.scope);
      const body = req.method === 'POST' ? await readJson(req, this.#o.maxBodyBytes) : undefined;
      const params = route.pattern.exec(url.pathname)?.groups ?? {};
      const out = await route.handle(
        this.#harpoon,
        { params, query: url.searchParams, body, signal: abort.signal },
        this.#o.maxWaitMs,
      );
      send(res, out.status, out.body);
    } catch (err) {
      const { status, body } = encodeError(err);
      if (status >= 500)
        this.#log.error('request failed', { path: req.url?.split('?')[0], error: (err as Error).message });
      const retry = body.error.retryAfterMs;
      if (retry !== undefined) res.setHeader('retry-after', String(Math.max(1, Math.ceil(retry / 1000))));
      if (err instanceof BodyTooLarge) res.setHeader('connection', 'close');
      send(res, (err as { status?: number }).status ?? status, body);
    }
  }
}

class BodyTooLarge extends ValidationError {
  readonly status = 413;
}

function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(
          new BodyTooLarge(`body: larger than ${limit} bytes`, [
            { path: 'body', message: `larger than ${limit} bytes` },
          ]),
        );
        // Discard the rest of the body; the 413 answer closes the connection.
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch {
        reject(new ValidationError('body: not valid JSON', [{ path: 'body', message: 'not valid JSON' }]));
      }
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}
