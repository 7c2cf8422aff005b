/**
 * Options of {@link HarpoonClient}: each default written once here, parsed at construction into a
 * frozen object.
 *
 * @module
 */
import { z } from 'zod';
import { parseOrThrow } from '../../validation.js';
import { HTTP_DEFAULTS, MAX_HTTP_BATCH } from './server-options.js';

const MIB = 1024 * 1024;

/** @internal Every default of {@link HarpoonClientOptions}, once. */
export const CLIENT_DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  maxSockets: 64,
  coalesce: Object.freeze({
    windowMs: 1,
    maxBatch: 500,
    maxBatchBytes: MIB,
    maxInFlight: 8,
    maxPending: 10_000,
  }),
});

/**
 * Coalescing of concurrent `create` and `transition` calls (see {@link HarpoonClientOptions.coalesce}).
 * The calls of one kind made within `windowMs` of each other travel in one request, up to
 * `maxBatch` calls and `maxBatchBytes`; each comes back with its own result or typed error.
 */
export interface HarpoonCoalesceOptions {
  /**
   * How long the first call of a batch waits for company, in ms (default 1): the latency every
   * coalesced call may add. 0 coalesces only the calls made in the same turn of the event loop.
   */
  windowMs?: number;
  /** Most calls in one request (default 500; at most 5,000, what Harpoon accepts in one body). */
  maxBatch?: number;
  /**
   * Most bytes in one request's body, envelope included (default 1 MiB; at most 8 MiB, Harpoon's
   * default `maxBodyBytes`). Against a Harpoon with a smaller `maxBodyBytes`, a request it refuses
   * as too large (413) is sent again as two halves; a single call larger than either limit still
   * travels alone, and gets the error it gets uncoalesced.
   */
  maxBatchBytes?: number;
  /**
   * Requests of one kind in flight at once (default 8). While they are, new calls wait and
   * gather into the next request: under load the batches grow instead of the requests. A call
   * still waiting when its `timeoutMs` runs out fails with a `transient` `UnavailableError`,
   * never sent.
   */
  maxInFlight?: number;
  /** Calls waiting or in flight, per kind, before a call fails with `BusyError` (default 10,000). */
  maxPending?: number;
}

/** Options of {@link HarpoonClient}. */
export interface HarpoonClientOptions {
  /** Harpoon's base URL, e.g. `http://10.0.0.5:7300`. */
  url: string;
  /** This service's bearer token. */
  token: string;
  /**
   * Time budget of each call in ms (default 30,000; long-polls add their wait). A coalesced call's
   * budget starts when it is made: time waiting for its request counts.
   */
  timeoutMs?: number;
  /**
   * Connections to Harpoon at once (default 64): one `node:http` (or `node:https`) `Agent` per
   * client with keep-alive, so connections are reused across calls; one idle for 4 s is closed by
   * the client, a second before Harpoon closes it. A request beyond them waits for a free
   * connection (within its timeout). Each waiting feed long-poll holds one.
   */
  maxSockets?: number;
  /**
   * Coalesce concurrent `create` and `transition` calls into one request each (default: on, with
   * the defaults of {@link HarpoonCoalesceOptions}); `false` sends one request per call.
   * Needs a Harpoon of the same release or later (the `each` body); set `false` against an older one.
   */
  coalesce?: HarpoonCoalesceOptions | boolean;
}

const C = CLIENT_DEFAULTS.coalesce;
const coalesceSchema = z
  .object({
    windowMs: z.number().min(0).max(1_000).default(C.windowMs),
    maxBatch: z.number().int().min(1).max(MAX_HTTP_BATCH).default(C.maxBatch),
    maxBatchBytes: z.number().int().min(1_024).max(HTTP_DEFAULTS.maxBodyBytes).default(C.maxBatchBytes),
    maxInFlight: z.number().int().min(1).max(1_024).default(C.maxInFlight),
    maxPending: z.number().int().min(1).max(1_000_000).default(C.maxPending),
  })
  .strict();

const schema = z
  .object({
    url: z.url().refine((u) => /^https?:/.test(u), 'must be an http(s) URL'),
    token: z.string().min(1),
    timeoutMs: z.number().int().positive().default(CLIENT_DEFAULTS.timeoutMs),
    maxSockets: z.number().int().min(1).max(65_536).default(CLIENT_DEFAULTS.maxSockets),
    coalesce: z
      .union([z.boolean(), coalesceSchema])
      .default(true)
      .transform((c) => (c === false ? null : c === true ? coalesceSchema.parse({}) : c)),
  })
  .strict();

/** @internal The parsed options: `coalesce` is null when off. */
export type HarpoonClientSettings = Readonly<z.output<typeof schema>>;

/** @internal Parse the client's options, or throw a `ValidationError` naming the field and the rule. */
export function parseClientOptions(options: unknown): HarpoonClientSettings {
  return Object.freeze(parseOrThrow(schema, options, 'HarpoonClient options'));
}
