/**
 * The HTTP client of Harpoon: the same {@link HarpoonApi} as the in-process Harpoon, for callers in
 * other processes. Concurrent creates and transitions are coalesced into one request per kind
 * (client-options.ts); connections are pooled and kept alive (client-transport.ts).
 *
 * @module
 */
import { z } from 'zod';
import { deadline } from '../../deadline.js';
import { type BusyError, ClosedError, isCtlplaneError, ValidationError } from '../../errors.js';
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
import { sleep } from '../../retry.js';
import type { EventOf, NewEventOf } from '../../store/event-store-types.js';
import { type FollowOptions, limitOf } from '../../store/follow.js';
import { traceHeaders } from '../../tracing/propagation.js';
import { activeTraceContext, withActiveTraceContext } from '../../tracing/tracing.js';
import { parseOrThrow } from '../../validation.js';
import type { HarpoonApi } from '../api.js';
import type { Batcher } from '../batcher.js';
import { eachBatcher } from './client-each.js';
import {
  type HarpoonClientOptions,
  type HarpoonClientSettings,
  type HarpoonCoalesceOptions,
  parseClientOptions,
} from './client-options.js';
import { type HttpAnswer, HttpTransport } from './client-transport.js';
import { event, events, feedPage, jsonOf, outcomes, search } from './client-wire.js';
import { decodeError } from './error-codec.js';

export type { HarpoonClientOptions, HarpoonCoalesceOptions };

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
 * `close()` when done: it waits for the writes in flight, then releases the connections (idle
 * ones do not keep the process alive).
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
  /** Uncoalesced writes in flight, which `close()` waits for. */
  readonly #writes = new Set<Promise<unknown>>();
  #closed: Promise<void> | null = null;

  /** @param options - where Harpoon is, this service's token, coalescing; validated here */
  constructor(options: HarpoonClientOptions) {
    this.#o = parseClientOptions(options);
    this.#http = new HttpTransport(this.#o.url, this.#o.token, this.#o.maxSockets);
    const post = (path: string, body: string, ms: number) => this.#send('POST', path, body, ms);
    this.#creates = eachBatcher('HarpoonClient creates', '/v1/events', this.#o, post);
    this.#transitions = eachBatcher('HarpoonClient transitions', '/v1/transitions', this.#o, post);
  }

  /**
   * Create one event. Coalesced (the default), the call waits up to `coalesce.windowMs` for
   * company before its request leaves, and longer while `coalesce.maxInFlight` requests of its
   * kind are out, all within `timeoutMs`; with `coalesce.maxPending` calls already waiting it
   * fails at once with a `BusyError` of the client's own, before anything is sent.
   *
   * @throws ValidationError, BusyError, UnavailableError (`transient` when nothing was sent),
   *   ClosedError after `close()`
   */
  async create(e: NewEventOf<M>): Promise<EventOf<M>> {
    this.#open();
    // The caller's span, recorded here: on the server, the active span is the server's own.
    const traced = withActiveTraceContext(e);
    const json = this.#creates ? jsonOf(traced) : undefined;
    // A value JSON cannot carry goes alone, to get the very error it gets uncoalesced.
    if (this.#creates && json !== undefined) return this.#creates.submit(json);
    return (await this.#call('POST', '/v1/events', event, { event: traced })).event as unknown as EventOf<M>;
  }

  async createMany(list: readonly NewEventOf<M>[]): Promise<EventOf<M>[]> {
    const traced = Array.isArray(list) ? list.map(withActiveTraceContext) : list;
    return (await this.#call('POST', '/v1/events', events, { events: traced }))
      .events as unknown as EventOf<M>[];
  }

  /**
   * Compare-and-set transition of one event. Coalesced as `create` is (see there: the window, the
   * wait behind requests in flight within `timeoutMs`, the client's own `BusyError`).
   *
   * @throws ConflictError when the event is not in the expected state, and as `create`
   */
  async transition(input: TransitionInput): Promise<EventOf<M>> {
    this.#open();
    // Coalesced, the item carries the caller's trace context: the request serves many callers.
    const json = this.#transitions ? jsonOf(withActiveTraceContext(input)) : undefined;
    if (this.#transitions && json !== undefined) return this.#transitions.submit(json);
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
   * Stop taking calls (later ones fail with `ClosedError`), send the calls waiting to be
   * coalesced, wait for every write in flight, coalesced or not, then close the client's
   * connections (reads in flight, feed long-polls among them, fail). Bounded: every write ends
   * within its `timeoutMs`. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all([
        this.#creates?.close(),
        this.#transitions?.close(),
        Promise.allSettled([...this.#writes]),
      ]);
      this.#http.close();
    })();
    return this.#closed;
  }

  #open(): void {
    if (this.#closed) throw new ClosedError('HarpoonClient');
  }

  /** One request of a caller: refused once closed; a write is tracked until it ends. */
  async #call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    waitMs = 0,
    signal?: AbortSignal,
  ): Promise<z.output<S>> {
    this.#open();
    let json: string | undefined;
    if (body !== undefined) {
      json = jsonOf(body);
      if (json === undefined) {
        const rule = 'not representable as JSON (a BigInt, a cycle, a function)';
        throw new ValidationError(`invalid body: ${rule}`, [{ path: 'body', message: rule }]);
      }
    }
    // The caller's span, as W3C headers: Harpoon handles the request inside it (a coalesced
    // request serves many callers, so each of its items carries its own instead).
    const trace = method === 'POST' ? traceHeaders(activeTraceContext()) : undefined;
    const answer = this.#send(method, path, json, this.#o.timeoutMs + waitMs, signal, trace);
    if (method === 'POST') {
      this.#writes.add(answer);
      void answer.then(
        () => this.#writes.delete(answer),
        () => this.#writes.delete(answer),
      );
    }
    const res = await answer;
    if (res.status < 200 || res.status > 299) throw decodeError(res.status, res.json);
    return parseOrThrow(schema, res.json, `Harpoon response to ${method} ${path.split('?')[0]}`);
  }

  /** One request within `ms`, or until `signal` aborts; resolves with the answer whatever its status. */
  async #send(
    method: string,
    path: string,
    json: string | undefined,
    ms: number,
    signal?: AbortSignal,
    headers?: Readonly<Record<string, string>>,
  ): Promise<HttpAnswer> {
    // A plain timer, not AbortSignal.timeout inside AbortSignal.any: Node 20 can collect that one
    // before it fires (see deadline.ts). It also ends the request when the caller's signal aborts.
    const until = deadline(ms, signal);
    try {
      return await this.#http.send(method, path, json, until.signal, headers);
    } finally {
      until.clear();
    }
  }
}
