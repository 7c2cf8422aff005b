/**
 * Harpoon over HTTP + JSON: every request authenticated with a service's bearer token, validated
 * with zod, answered with the event JSON or a typed error body. What one caller can make the
 * server hold is bounded: one request at a time per connection, bodies and pages in bytes,
 * long-polls in number, and every phase of a connection in time (see server-options).
 *
 * @module
 */
import { createServer as createHttpServer, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import PQueue from 'p-queue';
import type { EventTypeMap } from '../../events/registry.js';
import { noopLogger } from '../../logger.js';
import type { Harpoon } from '../harpoon.js';
import { TokenAuthenticator } from './auth.js';
import { ConnectionQueues } from './connection-queue.js';
import { type DispatchDeps, dispatch } from './dispatch.js';
import { LongPolls } from './long-polls.js';
import { RateLimitedLog } from './peer-log.js';
import type { PageTurn } from './routes.js';
import {
  type HarpoonHttpServerOptions,
  type HttpServerSettings,
  KEEP_ALIVE_TIMEOUT_MS,
  parseHttpServerOptions,
  TIMEOUT_CHECK_MS,
} from './server-options.js';

export type { HarpoonHttpServerOptions, HarpoonTlsOptions } from './server-options.js';

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
  readonly #o: HttpServerSettings;
  readonly #server: Server;
  readonly #longPolls: LongPolls;
  readonly #errors: RateLimitedLog;
  #closing: Promise<void> | null = null;

  /** @param options - what to serve and to whom; validated here */
  constructor(options: HarpoonHttpServerOptions<M>) {
    const { harpoon: typed, tls, logger, ...rest } = options;
    this.#o = parseHttpServerOptions(rest);
    // Routes validate payloads through the store's registry at run time; the static type is M's.
    const harpoon = typed as unknown as Harpoon;
    const log = (logger ?? noopLogger).child('harpoon:http');
    this.#errors = new RateLimitedLog(log);
    this.#longPolls = new LongPolls(harpoon, { max: this.#o.maxLongPolls, pollMs: this.#o.feedPollMs, log });
    const deps: DispatchDeps = {
      harpoon,
      auth: new TokenAuthenticator(this.#o.tokens),
      settings: this.#o,
      longPolls: this.#longPolls,
      pageTurn: pageTurns(this.#o.maxPageReads),
      log,
      errors: this.#errors,
    };
    const queues = new ConnectionQueues(this.#o.maxPipelinedRequests, (socket) =>
      log.debug('too many pipelined requests: connection closed', { remote: socket.remoteAddress }),
    );
    const http: ServerOptions = {
      headersTimeout: this.#o.headersTimeoutMs,
      requestTimeout: this.#o.requestTimeoutMs,
      // Node checks both timeouts on this interval (default 30 s: a 20 s header timeout fired at 38 s).
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    };
    const handler: Parameters<typeof createHttpServer>[1] = (req, res) =>
      queues.run(req, res, () => void dispatch(deps, req, res));
    // HarpoonTlsOptions is https.ServerOptions written structurally (see server-options.ts).
    this.#server = tls
      ? createHttpsServer({ ...(tls as HttpsOptions), ...http }, handler)
      : createHttpServer(http, handler);
    this.#server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // No byte either way for this long (a caller not reading its answers): the socket is destroyed.
    this.#server.timeout = this.#o.idleTimeoutMs;
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

  /** Stop accepting connections, answer waiting long-polls, close idle connections (idempotent). */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#longPolls.close();
      this.#server.closeIdleConnections();
      this.#errors.flush();
      setTimeout(() => this.#server.closeAllConnections(), 1_000).unref();
    });
    return this.#closing;
  }
}

/** At most `concurrency` page reads at once; the others wait in arrival order. */
function pageTurns(concurrency: number): PageTurn {
  const queue = new PQueue({ concurrency });
  // A read whose caller went away leaves the queue unrun (p-queue rejects it with an AbortError).
  return (read, signal) => queue.add(read, { signal });
}
