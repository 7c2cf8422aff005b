/**
 * The Agent: the client a host runs. It never touches the database: it connects to its region's
 * router with its credentials, runs a handler per event type, acknowledges, sends heartbeats with
 * metrics, and on any disconnect reconnects with jittered backoff (failing over between router
 * URLs) and resumes from its cursor.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { ClosedError, UnauthorizedError } from '../../errors.js';
import type { EventTypeMap } from '../../events/registry.js';
import { type Logger, maskSecrets, noopLogger } from '../../logger.js';
import { backoffDelay, sleep } from '../../retry.js';
import { parseOrThrow } from '../../validation.js';
import { AUTH_CLOSE_REASONS, type DisconnectReason } from '../close-reasons.js';
import type { AgentEvents } from './agent-events.js';
import { type Link, openLink } from './agent-link.js';
import { type AgentHandler, type AgentOptions, agentOptionsSchema } from './agent-options.js';
import { AgentWork } from './agent-work.js';

/** Reasons after which the next URL is tried instead of the same one. */
const FAILOVER = new Set<DisconnectReason>([
  'shutdown',
  'capacity',
  'connection-lost',
  'closed-by-peer',
  'idle-timeout',
]);

type Parsed = ReturnType<typeof agentOptionsSchema.parse>;

/**
 * A host agent.
 *
 * @example
 * ```ts
 * const agent = new Agent({
 *   serverId: 'hv-17',
 *   token: keyring.sign({ serverId: 'hv-17', region: 'nyc1' }),
 *   urls: ['wss://router-a.nyc1:7100', 'wss://router-b.nyc1:7100'],
 *   connector: new WsConnector(),
 *   handlers: { 'droplet.create': async (event) => ({ booted: event.id }) },
 *   metrics: () => ({ cpuFree: 12, memFreeMb: 30_000 }),
 * });
 * await agent.start();
 * ```
 */
export class Agent<M extends EventTypeMap = EventTypeMap> extends EventEmitter<AgentEvents> {
  readonly #o: Parsed & AgentOptions<M>;
  readonly #log: Logger;
  readonly #work: AgentWork;
  readonly #abort = new AbortController();
  #cursor: number | null;
  #link: Link | null = null;
  #loop: Promise<void> | null = null;
  #stopped = false;
  #first: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;

  /** @param options - identity, routers, handlers and limits; validated here */
  constructor(options: AgentOptions<M>) {
    super();
    const parsed = parseOrThrow(agentOptionsSchema, options, 'Agent options');
    this.#o = { ...options, ...parsed } as Parsed & AgentOptions<M>;
    this.#cursor = parsed.cursor;
    this.#log = (options.logger ?? noopLogger).child(`agent:${parsed.serverId}`);
    const types = options.types;
    this.#work = new AgentWork({
      serverId: parsed.serverId,
      handlers: options.handlers as Record<string, AgentHandler | undefined>,
      // Lenient on read: an event written by a newer API may carry fields this agent's schema lacks.
      parse: types ? (type, payload) => types.parse(type, payload, '', { strict: false }) : undefined,
      ackRunning: parsed.ackRunning,
      concurrency: parsed.concurrency,
      maxQueued: parsed.maxQueued,
      maxRemembered: parsed.maxRemembered,
      events: this,
      log: this.#log,
      sendAcks: (acks) => this.#link?.sendAcks(acks),
    });
  }

  /** This agent's server. */
  get serverId(): string {
    return this.#o.serverId;
  }

  /** Where the agent resumes from: every change of its events up to here was received. Persist it if you persist work. */
  get cursor(): number | null {
    return this.#cursor;
  }

  /** True while a router serves the agent. */
  get connected(): boolean {
    return this.#link?.welcomed ?? false;
  }

  /** The id of the router serving the agent, or null. */
  get routerId(): string | null {
    return this.#link?.routerId ?? null;
  }

  /** Events queued or running, and acknowledgements not yet confirmed. */
  get pending(): { events: number; acks: number } {
    return { events: this.#work.active, acks: this.#work.unconfirmed };
  }

  /**
   * Connect and keep connected. Resolves once a router first accepts the agent.
   *
   * @throws UnauthorizedError when the router refuses a fixed token (the agent stops)
   * @throws ClosedError when `stop()` comes first
   */
  start(): Promise<void> {
    if (this.#stopped) return Promise.reject(new ClosedError(`Agent ${this.serverId}`));
    if (!this.#first) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#first = { promise, resolve, reject };
    }
    this.#loop ??= this.#run();
    return this.#first.promise;
  }

  /** Disconnect and stop; running handlers see their signal abort. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#abort.abort();
      this.#work.stop();
      this.#link?.close('agent-stopped', 'agent stopping');
      this.#first?.reject(new ClosedError(`Agent ${this.serverId}`));
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { urls, backoff, token } = this.#o;
    let attempt = 0;
    let i = 0;
    while (!this.#stopped) {
      const url = urls[i % urls.length]!;
      const r = await openLink(url, {
        options: this.#o,
        signal: this.#abort.signal,
        cursor: () => this.#cursor,
        setCursor: (c) => {
          this.#cursor = c;
        },
        work: this.#work,
        events: this,
        log: this.#log,
        onOpen: (link) => {
          this.#link = link;
        },
        onWelcome: () => this.#first?.resolve(),
      });
      this.#link = null;
      if (this.#stopped) break;
      this.emit('agent:disconnected', {
        url: maskSecrets(url),
        reason: r.reason,
        message: maskSecrets(r.message),
      });
      if (AUTH_CLOSE_REASONS.includes(r.reason as never) && typeof token === 'string') {
        this.#log.error('credentials refused; stopping', { reason: r.reason });
        this.emit('agent:rejected', { reason: r.reason, message: maskSecrets(r.message) });
        this.#first?.reject(
          new UnauthorizedError(`router refused the agent: ${r.reason}: ${maskSecrets(r.message)}`),
        );
        this.#stopped = true;
        this.#work.stop();
        break;
      }
      // A welcomed connection resets the backoff, unless the router closed it for sending too fast:
      // reconnecting at once would only be closed again.
      attempt = r.welcomed && r.reason !== 'rate-limited' ? 0 : attempt + 1;
      if (!r.welcomed || FAILOVER.has(r.reason)) i++;
      await sleep(backoffDelay(attempt, backoff), this.#abort.signal);
    }
    this.emit('agent:stopped', {});
  }
}
