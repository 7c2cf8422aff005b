/**
 * Options of Harpoon's HTTP server: every bound on what one caller can make it hold or do, each
 * default written once here, parsed at construction into a frozen object.
 *
 * @module
 */
import { z } from 'zod';
import type { EventTypeMap } from '../../events/registry.js';
import type { Logger } from '../../logger.js';
import { parseOrThrow } from '../../validation.js';
import type { Harpoon } from '../harpoon.js';
import { type ServiceToken, serviceTokenSchema } from './auth.js';

const MIB = 1024 * 1024;

/** @internal Every default of {@link HarpoonHttpServerOptions}, once. */
export const HTTP_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 8 * MIB,
  maxResponseBytes: 8 * MIB,
  maxWaitMs: 30_000,
  maxLongPolls: 1_000,
  feedPollMs: 100,
  maxPipelinedRequests: 16,
  maxPageReads: 4,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 30_000,
  /** Added to `maxWaitMs` when `idleTimeoutMs` is not given. */
  idleMarginMs: 30_000,
});

/**
 * @internal Fixed: most items in one `events` or `transitions` list, checked first by zod; a list
 * of more than twice this is refused on the raw body, before `JSON.parse` (a 4M-item list cost
 * 570 ms to parse).
 */
export const MAX_HTTP_BATCH = 5_000;
/** @internal Fixed: how long an idle keep-alive connection is kept between requests (Node's default, set on purpose). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** @internal Fixed: how often Node checks the header and request timeouts; they fire at most this late. */
export const TIMEOUT_CHECK_MS = 1_000;

/**
 * HTTPS options of {@link HarpoonHttpServer}: the fields of Node's `https.ServerOptions` most
 * deployments set, written out so that the declarations of `@ctlplane/core` need no `@types/node`.
 * A value typed as `https.ServerOptions` is accepted as it is, and every field is passed on.
 */
export interface HarpoonTlsOptions {
  // PEM is text or its bytes: `string | Uint8Array` (a `Buffer` is a `Uint8Array`).
  /** Private key(s) in PEM. */
  key?:
    | string
    | Uint8Array
    | readonly (string | Uint8Array | { pem: string | Uint8Array; passphrase?: string | undefined })[]
    | undefined;
  /** Certificate chain(s) in PEM. */
  cert?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /** Trusted CA certificates, to verify client certificates. */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /** PFX or PKCS12 bundle(s), instead of key and cert. */
  pfx?:
    | string
    | Uint8Array
    | readonly (string | Uint8Array | { buf: string | Uint8Array; passphrase?: string | undefined })[]
    | undefined;
  /** Passphrase of the key or PFX. */
  passphrase?: string | undefined;
  /** Oldest TLS version accepted, e.g. `TLSv1.2`. */
  minVersion?: string | undefined;
  /** Cipher suites, in OpenSSL's format. */
  ciphers?: string | undefined;
  /** Ask for a client certificate. */
  requestCert?: boolean | undefined;
  /** Refuse clients whose certificate does not verify (with `requestCert`). */
  rejectUnauthorized?: boolean | undefined;
}

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
  /** Largest request body (default 8 MiB): a larger one gets 413 and the connection is closed. */
  maxBodyBytes?: number;
  /**
   * Byte budget of one page of `GET /v1/events` and `GET /v1/feed` (default 8 MiB): a page stops
   * before the event that would pass it (one event is always sent, however large) and says where
   * to continue. Checked as the page is read, so a page of huge events is never built whole.
   */
  maxResponseBytes?: number;
  /** Longest `waitMs` of a feed long-poll (default 30,000). */
  maxWaitMs?: number;
  /** Feed long-polls waiting at once (default 1,000); one more gets 429 `BUSY`. */
  maxLongPolls?: number;
  /**
   * How often waiting long-polls look for other processes' commits (default 100 ms): one
   * `head()` read per interval for all of them; this process's commits wake them at once.
   */
  feedPollMs?: number;
  /**
   * Requests one connection may have waiting behind the one being answered (default 16). A
   * connection's requests are answered one at a time, in order; one more closes the connection.
   */
  maxPipelinedRequests?: number;
  /**
   * Pages of `GET /v1/events` and `GET /v1/feed` read and serialized at once (default 4); the
   * others wait their turn, each on its own connection. Bounds how much page work interleaves with
   * writes: 40 connections reading 1,000-event pages at once delayed other callers' creates by up
   * to 400 ms; a waiting long-poll holds no turn.
   */
  maxPageReads?: number;
  /** Time for a request's headers to arrive (default 20,000 ms); the connection is then closed. */
  headersTimeoutMs?: number;
  /** Time for a whole request, headers and body, to arrive (default 30,000 ms); then 408 and close. */
  requestTimeoutMs?: number;
  /**
   * A connection on which no byte moves either way for this long is closed (default `maxWaitMs` +
   * 30,000): a caller that stops reading its answers is let go. Must exceed `maxWaitMs`.
   */
  idleTimeoutMs?: number;
  /** Serve HTTPS with these options (key, cert, ca, …): Node's `https.ServerOptions` fit. */
  tls?: HarpoonTlsOptions;
  /** Logger (default: no-op). Tokens are never logged; errors caused by callers are rate-limited. */
  logger?: Logger;
}

const D = HTTP_DEFAULTS;
const ms = (min: number, max: number) => z.number().int().min(min).max(max);
const schema = z
  .object({
    tokens: z.array(serviceTokenSchema).min(1, 'give at least one service token'),
    host: z.string().default(D.host),
    port: z.number().int().min(0).max(65_535).default(D.port),
    maxBodyBytes: z.number().int().positive().default(D.maxBodyBytes),
    maxResponseBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(D.maxResponseBytes),
    maxWaitMs: ms(0, 300_000).default(D.maxWaitMs),
    maxLongPolls: z.number().int().min(0).max(1_000_000).default(D.maxLongPolls),
    feedPollMs: ms(10, 60_000).default(D.feedPollMs),
    maxPipelinedRequests: z.number().int().min(0).max(1_000).default(D.maxPipelinedRequests),
    maxPageReads: z.number().int().min(1).max(1_000).default(D.maxPageReads),
    headersTimeoutMs: ms(1_000, 600_000).default(D.headersTimeoutMs),
    requestTimeoutMs: ms(1_000, 3_600_000).default(D.requestTimeoutMs),
    idleTimeoutMs: ms(1_000, 3_600_000).optional(),
  })
  .strict()
  .refine((o) => o.headersTimeoutMs <= o.requestTimeoutMs, {
    message: 'must not exceed requestTimeoutMs',
    path: ['headersTimeoutMs'],
  })
  .refine((o) => o.idleTimeoutMs === undefined || o.idleTimeoutMs > o.maxWaitMs, {
    message: 'must exceed maxWaitMs (a long-poll is idle while it waits)',
    path: ['idleTimeoutMs'],
  });

/** @internal The parsed options. */
export type HttpServerSettings = Readonly<Omit<z.output<typeof schema>, 'idleTimeoutMs'>> & {
  readonly idleTimeoutMs: number;
};

/** @internal Parse the options other than the harpoon, TLS and logger. */
export function parseHttpServerOptions(rest: unknown): HttpServerSettings {
  const o = parseOrThrow(schema, rest, 'HarpoonHttpServer options');
  return Object.freeze({ ...o, idleTimeoutMs: o.idleTimeoutMs ?? o.maxWaitMs + D.idleMarginMs });
}
