/**
 * Small HTTP helpers shared by the API, the dashboard and the metrics endpoints.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isCtlplaneError, ValidationError } from '@ctlplane/core';

/** A route handler: returns false when the request is not its business. */
export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;

/** Send a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const STATUS: Record<string, number> = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  BUSY: 503,
  UNAVAILABLE: 503,
  CLOSED: 503,
  UNSUPPORTED: 501,
};

/** Answer with a typed error body: `{ error: { code, message, issues? } }`. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (!isCtlplaneError(err)) {
    sendJson(res, 500, { error: { code: 'INTERNAL', message: (err as Error)?.message ?? String(err) } });
    return;
  }
  const issues = err instanceof ValidationError ? err.issues : undefined;
  sendJson(res, STATUS[err.code] ?? 500, { error: { code: err.code, message: err.message, issues } });
}

/** Read a JSON body of at most `limit` bytes. */
export function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(
          new ValidationError(`body: larger than ${limit} bytes`, [{ path: 'body', message: 'too large' }]),
        );
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch {
        reject(new ValidationError('body: not valid JSON', [{ path: 'body', message: 'not valid JSON' }]));
      }
    });
  });
}

/** An HTTP server trying each handler in turn (404 when none takes the request). */
export async function serve(host: string, port: number, handlers: readonly Handler[]): Promise<HttpEndpoint> {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      try {
        for (const h of handlers) if (await h(req, res, url)) return;
        sendJson(res, 404, {
          error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` },
        });
      } catch (err) {
        sendError(res, err);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return new HttpEndpoint(server);
}

/** A listening HTTP server. */
export class HttpEndpoint {
  readonly #server: Server;
  #closing: Promise<void> | null = null;

  constructor(server: Server) {
    this.#server = server;
  }

  /** `http://host:port`. */
  get url(): string {
    const a = this.#server.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /** Stop listening and drop open connections (server-sent event streams included). */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}
