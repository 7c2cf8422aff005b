/**
 * The HTTP transport of {@link HarpoonClient}: `node:http` (or `node:https`) requests through one
 * keep-alive `Agent` per client, so connections are pooled and reused rather than opened per
 * call. The agent drops a connection idle for `IDLE_SOCKET_MS`, a second before Harpoon closes it
 * (`KEEP_ALIVE_TIMEOUT_MS`), so a request is not written on a connection the server is closing:
 * that race ends in ECONNRESET with the outcome unknown, a non-transient failure of every call in
 * the request. Node 20's agent does read the server's `Keep-Alive: timeout=…` hint, but applies it
 * only when shorter than the agent's own `timeout`: without one, idle connections never time out on
 * the client's side. Chosen over the platform `fetch`, whose pool (undici's global dispatcher)
 * cannot be configured without the `undici` package, and which costs the caller more CPU per
 * request.
 *
 * @module
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { UnavailableError } from '../../errors.js';
import { maskSecrets } from '../../logger.js';
import { KEEP_ALIVE_TIMEOUT_MS } from './server-options.js';

/** @internal An answer: its status and its body parsed as JSON (null when it is not JSON). */
export interface HttpAnswer {
  readonly status: number;
  readonly json: unknown;
}

/** Failures before a byte of the request left: the call certainly had no effect. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * @internal How long a pooled connection may stay idle before the client closes it: a second before
 * Harpoon does (`KEEP_ALIVE_TIMEOUT_MS`), as Node's agent does with a server's hint. On a socket in
 * use the agent's `timeout` only emits `timeout` on the request, which nothing here listens to: a
 * long-poll or a slow answer is bounded by the request's own deadline, not by this.
 */
export const IDLE_SOCKET_MS = KEEP_ALIVE_TIMEOUT_MS - 1_000;

/** @internal Sends requests to one Harpoon over a pool of kept-alive connections. */
export class HttpTransport {
  readonly #url: URL;
  readonly #label: string;
  readonly #auth: string;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

  constructor(url: string, token: string, maxSockets: number) {
    this.#url = new URL(url);
    this.#label = url;
    this.#auth = `Bearer ${token}`;
    const tls = this.#url.protocol === 'https:';
    // LIFO: the most recently used connections are reused, the others idle out.
    const pool = { keepAlive: true, maxSockets, scheduling: 'lifo' as const, timeout: IDLE_SOCKET_MS };
    this.#agent = tls ? new HttpsAgent(pool) : new HttpAgent(pool);
    this.#request = tls ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  /**
   * Send one request; resolves with the answer whatever its status. `extraHeaders`: the caller's
   * W3C trace context (`traceparent`, `tracestate`).
   *
   * @throws UnavailableError when Harpoon cannot be reached or the connection fails before the
   *   answer is complete (`transient` when nothing was sent), or when `signal` aborts
   */
  send(
    method: string,
    path: string,
    body: string | undefined,
    signal: AbortSignal,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<HttpAnswer> {
    const base = this.#url.pathname.replace(/\/$/, '');
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (failure: Error & { code?: string }): void => {
        if (settled) return;
        settled = true;
        // Aborted by the deadline or the caller: say why (`timed out after … ms`), not just "aborted".
        const err: Error & { code?: string } =
          signal.aborted && signal.reason instanceof Error ? signal.reason : failure;
        // The cause is left out: the error may quote the URL.
        const why = err.code && !err.message.includes(err.code) ? `${err.code} ${err.message}` : err.message;
        const message = maskSecrets(`Harpoon unreachable at ${this.#label}: ${why}`);
        reject(new UnavailableError(message, { transient: NOT_SENT.has(err.code ?? '') }));
      };
      const onAnswer = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', fail);
        res.once('close', () => {
          if (!res.complete) fail(new Error('the connection closed before the answer was complete'));
        });
        res.once('end', () => {
          if (settled) return;
          settled = true;
          let json: unknown = null;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // Not JSON (a proxy's error page): the status alone tells what happened.
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      };
      const req = this.#request(
        {
          protocol: this.#url.protocol,
          hostname: this.#url.hostname.replace(/^\[|\]$/g, ''),
          port: this.#url.port,
          path: `${base}${path}`,
          method,
          agent: this.#agent,
          signal,
          headers: {
            ...extraHeaders,
            authorization: this.#auth,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        onAnswer,
      );
      req.once('error', fail);
      req.end(body);
    });
  }

  /** Close every connection, idle or not (requests in flight fail). */
  close(): void {
    this.#agent.destroy();
  }
}
