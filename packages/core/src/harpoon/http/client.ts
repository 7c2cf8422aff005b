/**
 * The HTTP client of Harpoon: the same {@link HarpoonApi} as the in-process Harpoon, for callers in
 * other processes. Concurrent creates and transitions are coalesced into one request per kind
 * (client-options.ts); connections are pooled and kept alive (client-transport.ts).
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
import { sleep } from '../../retry.js';
import type { EventOf, NewEventOf } from '../../store/event-store-types.js';
import { type FollowOptions, limitOf } from '../../store/follow.js';
import { parseOrThrow } from '../../validation.js';
import type { HarpoonApi } from '../api.js';
import { Batcher } from '../batcher.js';
import {
  type HarpoonClientOptions,
  type HarpoonClientSettings,
  type HarpoonCoalesceOptions,
  parseClientOptions,
} from './client-options.js';
import { HttpTransport } from './client-transport.js';
import { decodeError } from './error-codec.js';

export type { HarpoonClientOptions, HarpoonCoalesceOptions };

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
const outcomes = z.object({ outcomes: z.array(outcome).max(MAX_ITEMS) });

/**
 * Talks to a {@link HarpoonHttpServer}. Errors come back typed (`ValidationError` with its issues,
 * `ConflictError`, `BusyError` with `retryAfterMs`, `UnavailableError` when Harpoon cannot be
 * reached, …).
 *
 * By default, concurrent `create` calls (and, apart, `transition` calls) made within
 * `coalesce.windowMs` of each other travel in one request, and each call still gets its own result
 * or the same typed error it would get alone: one bad event fails only its own call. A request
 * that fails as a whole (Harpoon unreachable, restarting, overloaded) fails each of its calls with
 * that error; give events an `idempotencyKey` and a retry never creates one twice. `claim`,
 * `createMany`, `transitionMany`, leases and reads are one request per call: a claim is already a
 * batch (`limit`), and claims of different owners or filters cannot share one. `coalesce: false`
 * sends one request per call, as before.
 *
 * Connections: a keep-alive pool of at most `maxSockets` per client (a `node:http` Agent). Call
 * `close()` when done to release them (idle ones do not keep the process alive).
 *
 * @example
 * ```ts
 * const harpoon = new HarpoonClient({ url: 'http://127.0.0.1:7300', token: process.env.API_TOKEN! });
 * const created = await harpoon.create({ type: 'droplet.create', payload, region: 'nyc1', idempotencyKey });
 * // Another process's HTTP calls without coalescing:
 * const plain = new HarpoonClient({ url, token, coalesce: false });
 * ```
 */
export class HarpoonClient<M extends EventTypeMap = EventTypeMap> implements HarpoonApi<M> {
  readonly #o: HarpoonClientSettings;
  readonly #http: HttpTransport;
  readonly #creates: Batcher<string, EventOf<M>> | null;
  readonly #transitions: Batcher<string, EventOf<M>> | null;

  /** @param options - where Harpoon is, this service's token, coalescing; validated here */
  constructor(options: HarpoonClientOptions) {
    this.#o = parseClientOptions(options);
    this.#http = new HttpTransport(this.#o.url, this.#o.token, this.#o.maxSockets);
    this.#creates = this.#coalescer('creates', '/v1/events');
    this.#transitions = this.#coalescer('transitions', '/v1/transitions');
  }

  async create(e: NewEventOf<M>): Promise<EventOf<M>> {
    if (this.#creates) return this.#creates.submit(JSON.stringify(e));
    return (await this.#call('POST', '/v1/events', event, { event: e })).event as unknown as EventOf<M>;
  }

  async createMany(list: readonly NewEventOf<M>[]): Promise<EventOf<M>[]> {
    return (await this.#call('POST', '/v1/events', events, { events: list }))
      .events as unknown as EventOf<M>[];
  }

  async transition(input: TransitionInput): Promise<EventOf<M>> {
    if (this.#transitions) return this.#transitions.submit(JSON.stringify(input));
    return (await this.#call('POST', '/v1/transitions', event, { transition: input }))
      .event as unknown as EventOf<M>;
  }

  async transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]> {
    const out = await this.#call('POST', '/v1/transitions', outcomes, { transitions: inputs });
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

  /**
   * Send the calls waiting to be coalesced, wait for every coalesced call to finish, then close
   * the client's connections (reads in flight fail). Later calls fail with `ClosedError`.
   */
  async close(): Promise<void> {
    await Promise.all([this.#creates?.close(), this.#transitions?.close()]);
    this.#http.close();
  }

  /** The coalescer of one kind of write, or null when coalescing is off. */
  #coalescer(kind: string, path: string): Batcher<string, EventOf<M>> | null {
    const c = this.#o.coalesce;
    if (!c) return null;
    return new Batcher<string, EventOf<M>>({
      name: `HarpoonClient ${kind}`,
      maxBatch: c.maxBatch,
      lingerMs: c.windowMs,
      concurrency: c.maxInFlight,
      maxPending: c.maxPending,
      maxBatchWeight: c.maxBatchBytes,
      weigh: (json) => Buffer.byteLength(json),
      run: async (items) => {
        const body = `{"each":[${items.join(',')}]}`;
        const out = await this.#call('POST', path, outcomes, body);
        if (out.outcomes.length !== items.length) {
          throw new UnavailableError(
            `Harpoon answered ${out.outcomes.length} outcomes to ${items.length} coalesced calls`,
          );
        }
        return out.outcomes.map((o) => (o.ok ? (o.event as unknown as EventOf<M>) : decodeError(0, o)));
      },
    });
  }

  /** One request; `body` is sent as JSON (a string: already JSON). */
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
      const json = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
      const res = await this.#http.send(method, path, json, until.signal);
      if (res.status < 200 || res.status > 299) throw decodeError(res.status, res.json);
      return parseOrThrow(schema, res.json, `Harpoon response to ${method} ${path.split('?')[0]}`);
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
