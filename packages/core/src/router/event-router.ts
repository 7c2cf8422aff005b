/**
 * The EventRouter: one per region (replicas side by side), between the store and thousands of
 * host agents. It learns about changes through one pluggable input (a feed poll or a pushed
 * feed), sends each agent only its own server's events, keeps a bounded history so agents resume
 * where they left off, and applies their acknowledgements to the store in batches.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { ClosedError } from '../errors.js';
import type { StoredEvent } from '../events/model.js';
import { noopLogger } from '../logger.js';
import { parseOrThrow } from '../validation.js';
import { CLOSE_CODES } from './close-reasons.js';
import type { RouterInput, RouterInputSink } from './inputs/input.js';
import { StorePollInput } from './inputs/store-poll-input.js';
import { RouterAcks } from './router-acks.js';
import { RouterCore } from './router-core.js';
import type { EventRouterEvents, RouterStats } from './router-events.js';
import { RouterGateway } from './router-gateway.js';
import { type EventRouterOptions, type ParsedRouterOptions, routerOptionsSchema } from './router-options.js';
import type { TransportConnection, TransportServer } from './transport.js';

const OPEN_STATUSES = ['placed', 'claimed', 'running'] as const;
const CATCH_UP_PAGE = 1_000;

type Held = Array<[readonly StoredEvent[], number | undefined]>;

/**
 * Routes a region's events to its agents.
 *
 * @example
 * ```ts
 * const router = new EventRouter({ store, region: 'nyc1', auth: keyring, onMetrics: (id, m) => metrics.report(id, m) });
 * await router.listen(new WsTransportServer({ host: '0.0.0.0', port: 7100 }));
 * ```
 */
export class EventRouter extends EventEmitter<EventRouterEvents> {
  readonly #core: RouterCore;
  readonly #acks: RouterAcks;
  readonly #gateway: RouterGateway;
  readonly #servers: TransportServer[] = [];
  #input: RouterInput;
  #starting: Promise<void> | null = null;
  #switching: Promise<void> = Promise.resolve();
  #closing: Promise<void> | null = null;
  #started = false;

  /** @param options - store, region, auth, input and limits; validated here */
  constructor(options: EventRouterOptions) {
    super();
    const o = parseOrThrow(routerOptionsSchema, options, 'EventRouter options');
    const opts: ParsedRouterOptions = Object.freeze({
      ...o,
      store: options.store,
      auth: options.auth,
      id: o.id ?? `router-${o.region}-${randomBytes(3).toString('hex')}`,
      idleTimeoutMs: o.idleTimeoutMs ?? 3 * o.heartbeatMs,
    });
    const log = (options.logger ?? noopLogger).child(`router:${opts.region}`);
    this.#core = new RouterCore(opts, log, this);
    this.#acks = new RouterAcks(this.#core);
    this.#gateway = new RouterGateway(this.#core, this.#acks);
    this.#input = options.input ?? new StorePollInput({ store: options.store });
  }

  /** This router's id. */
  get id(): string {
    return this.#core.opts.id;
  }

  /** The region served. */
  get region(): string {
    return this.#core.opts.region;
  }

  /** The current input's kind (`poll`, `bus`, …). */
  get inputKind(): string {
    return this.#input.kind;
  }

  /**
   * Load the region's open events and start the input. Called by `listen`; idempotent.
   *
   * @throws ClosedError after `close()`
   */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new ClosedError(`EventRouter ${this.id}`));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /** Start (if needed) and accept agents on `server`. Several transports may serve at once. */
  async listen(server: TransportServer): Promise<void> {
    await this.start();
    this.#servers.push(server);
    await server.listen((conn) => this.accept(conn));
    this.#core.log.info('listening', { url: server.url });
  }

  /**
   * Serve one connection from any transport (what `listen` does for each new connection). Before
   * `start()` has finished the connection is refused with `capacity`, and the agent retries.
   */
  accept(connection: TransportConnection): void {
    if (!this.#started) {
      connection.close(CLOSE_CODES.capacity, 'router is starting');
      return;
    }
    this.#gateway.accept(connection);
  }

  /**
   * Switch input while running, losing nothing: the new input starts (its changes held back), the
   * old one stops, the store feed is read from the router's cursor to catch up, then the held
   * changes are let through; duplicates are dropped by (id, version). Agents notice nothing.
   */
  useInput(next: RouterInput): Promise<void> {
    const run = this.#switching.then(() => this.#switch(next));
    this.#switching = run.catch(() => {});
    return run;
  }

  /** A snapshot of the counters. */
  stats(): RouterStats {
    const c = this.#core;
    const n = c.counters;
    return {
      routerId: c.opts.id,
      region: c.opts.region,
      input: this.#input.kind,
      cursor: c.cursor,
      agentsConnected: c.sessions.size,
      delivered: n.delivered,
      bytesSent: n.bytesSent,
      acks: { ...n.acks },
      disconnects: { ...n.disconnects },
      dbQueries: { ...c.gate.counts, total: c.gate.total },
      resyncs: { ...n.resyncs },
      duplicatesDropped: n.duplicatesDropped,
      history: { size: c.history.size, oldest: c.history.oldest, bytes: c.history.bytes },
      openEvents: { size: c.open.size, complete: c.open.complete, bytes: c.open.bytes },
      pendingAcks: { count: this.#acks.pending, bytes: this.#acks.bytes },
    };
  }

  /** Stop the input, close every agent with `shutdown`, apply queued acks, stop transports. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#starting?.catch(() => {});
      await this.#switching;
      await this.#input.stop();
      this.#core.guard.stop();
      this.#gateway.close();
      await Promise.all(this.#servers.map((s) => s.close()));
      await this.#acks.drain();
      await this.#core.gate.idle();
      this.emit('router:closed', {});
    })();
    return this.#closing;
  }

  async #start(): Promise<void> {
    const core = this.#core;
    const { store, region, maxOpenEvents } = core.opts;
    const head = await core.gate.run('head', () => store.head());
    const open: StoredEvent[] = [];
    let next: string | null = null;
    do {
      const page = await core.gate.run('query', () =>
        store.query({ region, status: OPEN_STATUSES, limit: 1_000, cursor: next }),
      );
      open.push(...page.events);
      next = open.length > maxOpenEvents ? null : page.nextCursor;
    } while (next !== null);
    core.reset(head, open);
    await this.#attach(this.#input, null);
    this.#gateway.start();
    this.#started = true;
    core.log.info('started', { input: this.#input.kind, cursor: head, openEvents: core.open.size });
    this.emit('router:started', { routerId: this.id, region, cursor: head, openEvents: core.open.size });
  }

  /** A sink for an input; while `box.held` is set, deliveries are held there instead of ingested. */
  #sink(box: { held: Held | null } = { held: null }): RouterInputSink {
    const core = this.#core;
    return {
      region: core.opts.region,
      deliver: (events, cursor) => {
        if (this.#closing) return;
        if (box.held) box.held.push([events, cursor]);
        else core.ingest(events, cursor);
      },
      has: (id, version) => {
        const known = (core.open.version(id) ?? 0) >= version;
        if (known) core.counters.duplicatesDropped++;
        return known;
      },
      query: (kind, fn) => core.gate.run(kind, fn),
      error: (err) => {
        const error = err instanceof Error ? err : new Error(String(err));
        core.log.warn('input failed; retrying', { input: this.#input.kind, error: error.message });
        this.emit('router:input:error', { input: this.#input.kind, error });
      },
    };
  }

  async #switch(next: RouterInput): Promise<void> {
    await this.start();
    if (this.#closing) throw new ClosedError(`EventRouter ${this.id}`);
    const previous = this.#input;
    const caughtUp = await this.#attach(next, previous);
    this.#input = next;
    this.#core.log.info('input switched', { from: previous.kind, to: next.kind, caughtUp });
    this.emit('router:input:switched', { from: previous.kind, to: next.kind, caughtUp });
  }

  /**
   * Start `next` with its changes held back, stop `previous`, read the store feed from the cursor
   * until caught up, then let the held changes through: nothing committed in between is missed,
   * whatever `next` can replay. Returns how many new changes the catch-up and the held ones brought.
   */
  async #attach(next: RouterInput, previous: RouterInput | null): Promise<number> {
    const core = this.#core;
    const { store, region } = core.opts;
    const box: { held: Held | null } = { held: [] };
    await next.start(this.#sink(box), core.cursor);
    await previous?.stop();
    let caughtUp = 0;
    try {
      for (;;) {
        const page = await core.gate.run('readFeed', () =>
          store.readFeed(core.cursor, { region, limit: CATCH_UP_PAGE }),
        );
        caughtUp += core.ingest(page.events, page.cursor);
        if (page.events.length < CATCH_UP_PAGE && page.more !== true) break;
      }
    } catch (err) {
      await next.stop();
      await previous?.start(this.#sink(), core.cursor);
      throw err;
    }
    const held = box.held ?? [];
    box.held = null;
    for (const [events, cursor] of held) caughtUp += core.ingest(events, cursor);
    return caughtUp;
  }
}
