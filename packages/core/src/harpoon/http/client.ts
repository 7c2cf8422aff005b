/**
 * The HTTP client of Harpoon: the same {@link HarpoonApi} as the in-process Harpoon, for callers in
 * other processes. Uses the platform `fetch`.
 *
 * @module
 */
import { z } from 'zod';
import { deadline } from '../../deadline.js';
import { type BusyError, isCtlplaneError, UnavailableError } from '../../errors.js';
import type {
  ClaimInput,
  EventPage,
  EventQuery,
  FeedFilter,
  FeedPage,
  TransitionInput,
  TransitionOutcome,
} from '../../events/model.js';
import type { EventTypeMap } from '../../events/registry.js';
import { wireEventSchema } from '../../events/wire.js';
import { maskSecrets } from '../../logger.js';
import { sleep } from '../../retry.js';
import type { EventOf, NewEventOf } from '../../store/event-store-types.js';
import { type FollowOptions, limitOf } from '../../store/follow.js';
import { parseOrThrow } from '../../validation.js';
import type { HarpoonApi } from '../api.js';
import { decodeError } from './error-codec.js';

/** Options of {@link HarpoonClient}. */
export interface HarpoonClientOptions {
  /** Harpoon's base URL, e.g. `http://10.0.0.5:7300`. */
  url: string;
  /** This service's bearer token. */
  token: string;
  /** Per-request timeout in ms (default 30,000; long-polls add their wait). */
  timeoutMs?: number;
}

const optionsSchema = z
  .object({
    url: z.url().refine((u) => /^https?:/.test(u), 'must be an http(s) URL'),
    token: z.string().min(1),
    timeoutMs: z.number().int().positive().default(30_000),
  })
  .strict();

// Bounds first (a page or batch is at most 10,000): zod then refuses an oversized list before
// parsing its items, instead of collecting an issue per bad item (GHSA-mrhx-c7xc-m3w5).
const MAX_ITEMS = 10_000;
const events = z.object({ events: z.array(wireEventSchema).max(MAX_ITEMS) });
const feedPage = events.extend({ cursor: z.number(), more: z.boolean().optional() });
const event = z.object({ event: wireEventSchema });
const outcome = z.union([
  z.object({ ok: z.literal(true), event: wireEventSchema }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }).loose() }),
]);

/**
 * Talks to a {@link HarpoonHttpServer}. Errors come back typed (`ValidationError` with its issues,
 * `ConflictError`, `BusyError` with `retryAfterMs`, …).
 *
 * @example
 * ```ts
 * const harpoon = new HarpoonClient({ url: 'http://127.0.0.1:7300', token: process.env.API_TOKEN! });
 * const created = await harpoon.create({ type: 'droplet.create', payload, region: 'nyc1' });
 * ```
 */
export class HarpoonClient<M extends EventTypeMap = EventTypeMap> implements HarpoonApi<M> {
  readonly #o: z.output<typeof optionsSchema>;

  /** @param options - where Harpoon is and this service's token; validated here */
  constructor(options: HarpoonClientOptions) {
    this.#o = parseOrThrow(optionsSchema, options, 'HarpoonClient options');
  }

  async create(e: NewEventOf<M>): Promise<EventOf<M>> {
    return (await this.#call('POST', '/v1/events', event, { event: e })).event as unknown as EventOf<M>;
  }

  async createMany(list: readonly NewEventOf<M>[]): Promise<EventOf<M>[]> {
    return (await this.#call('POST', '/v1/events', events, { events: list }))
      .events as unknown as EventOf<M>[];
  }

  async transition(input: TransitionInput): Promise<EventOf<M>> {
    return (await this.#call('POST', '/v1/transitions', event, { transition: input }))
      .event as unknown as EventOf<M>;
  }

  async transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]> {
    const out = await this.#call(
      'POST',
      '/v1/transitions',
      z.object({ outcomes: z.array(outcome).max(MAX_ITEMS) }),
      {
        transitions: inputs,
      },
    );
    return out.outcomes.map((o) =>
      o.ok ? { ok: true, event: o.event } : { ok: false, error: decodeError(0, o) },
    );
  }

  async get(id: number): Promise<EventOf<M> | null> {
    try {
      return (await this.#call('GET', `/v1/events/${encodeURIComponent(id)}`, event))
        .event as unknown as EventOf<M>;
    } catch (err) {
      if ((err as { code?: string }).code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  async query(q: EventQuery = {}): Promise<EventPage<EventOf<M>>> {
    const params = search({ ...q, status: q.status === undefined ? undefined : [q.status].flat().join(',') });
    const page = await this.#call(
      'GET',
      `/v1/events?${params}`,
      events.extend({ nextCursor: z.string().nullable() }),
    );
    return page as unknown as EventPage<EventOf<M>>;
  }

  /**
   * Read the feed after `cursor`: one answer of the server, which bounds it in bytes
   * (`maxResponseBytes`). A page the server cut short of `limit` comes back as it is, with
   * `more: true`: read on from its cursor at once. Only a short page without `more` means
   * "caught up", as in process.
   */
  async readFeed(
    cursor: number,
    filter: FeedFilter & { limit?: number; waitMs?: number } = {},
  ): Promise<FeedPage<EventOf<M>>> {
    const page = await this.#readFeedOnce(cursor, filter);
    return page.more ? page : { events: page.events, cursor: page.cursor };
  }

  async #readFeedOnce(
    cursor: number,
    filter: FeedFilter & { limit?: number; waitMs?: number },
    signal?: AbortSignal,
  ): Promise<FeedPage<EventOf<M>> & { more: boolean }> {
    const params = search({
      ...filter,
      cursor,
      status: filter.status === undefined ? undefined : [filter.status].flat().join(','),
    });
    const page = await this.#call('GET', `/v1/feed?${params}`, feedPage, undefined, filter.waitMs, signal);
    return { ...(page as unknown as FeedPage<EventOf<M>>), more: page.more === true };
  }

  async head(): Promise<number> {
    return (await this.#call('GET', '/v1/head', z.object({ head: z.number() }))).head;
  }

  async *follow(cursor: number, options: FollowOptions = {}): AsyncIterable<FeedPage<EventOf<M>>> {
    const { signal, pollMs = 10_000, limit, ...filter } = options;
    let at = cursor;
    while (!signal?.aborted) {
      let page: FeedPage<EventOf<M>>;
      try {
        const asked = limit === undefined ? {} : { limit: limitOf(limit) };
        page = await this.#readFeedOnce(at, { ...filter, ...asked, waitMs: pollMs }, signal);
      } catch (err) {
        // Stopped by the caller: the long-poll in flight was aborted with it.
        if (signal?.aborted) return;
        // Too many long-polls waiting on the server: come back when it says.
        if (!isCtlplaneError(err, 'BUSY')) throw err;
        await sleep((err as BusyError).retryAfterMs, signal);
        continue;
      }
      at = page.cursor;
      if (page.events.length > 0) yield { events: page.events, cursor: page.cursor };
    }
  }

  async claim(input: ClaimInput): Promise<EventOf<M>[]> {
    return (await this.#call('POST', '/v1/claims', events, input)).events as unknown as EventOf<M>[];
  }

  async renew(id: number, owner: string, leaseMs: number): Promise<EventOf<M>> {
    return (await this.#call('POST', '/v1/leases/renew', event, { id, owner, leaseMs }))
      .event as unknown as EventOf<M>;
  }

  async release(id: number, owner: string): Promise<EventOf<M>> {
    return (await this.#call('POST', '/v1/leases/release', event, { id, owner }))
      .event as unknown as EventOf<M>;
  }

  async #call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    waitMs = 0,
    signal?: AbortSignal,
  ): Promise<z.output<S>> {
    // A plain timer, not AbortSignal.timeout inside AbortSignal.any: Node 20 can collect that one
    // before it fires (see deadline.ts). It also ends the request when the caller's signal aborts.
    const until = deadline(this.#o.timeoutMs + waitMs, signal);
    try {
      let res: Response;
      try {
        res = await fetch(`${this.#o.url.replace(/\/$/, '')}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.#o.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: until.signal,
        });
      } catch (err) {
        // The cause is left out: fetch's errors may quote the URL.
        throw new UnavailableError(
          maskSecrets(`Harpoon unreachable at ${this.#o.url}: ${(err as Error).message}`),
        );
      }
      const json: unknown = await res.json().catch(() => null);
      if (!res.ok) throw decodeError(res.status, json);
      return parseOrThrow(schema, json, `Harpoon response to ${method} ${path.split('?')[0]}`);
    } finally {
      until.clear();
    }
  }
}

function search(values: Record<string, unknown>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null) p.set(k, String(v));
  return p.toString();
}
