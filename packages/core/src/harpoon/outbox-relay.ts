/**
 * The transactional outbox relay: publishes every committed change of the events table to the
 * message bus, with broker confirms, and advances its saved cursor only after the confirm.
 *
 * The outbox record of a change is the change's feed position, written in the same transaction
 * as the change itself (see docs/harpoon.md); the gap-free feed is the outbox table.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { z } from 'zod';
import type { MessageBus, OutgoingMessage } from '../bus/message-bus.js';
import { eventRoutingKey } from '../bus/routing.js';
import type { StoredEvent } from '../events/model.js';
import { toWireEvent } from '../events/wire.js';
import { type Logger, noopLogger } from '../logger.js';
import { backoffDelay, sleep } from '../retry.js';
import { nameSchema, parseOrThrow } from '../validation.js';
import type { RelayCursorStore } from './cursor-store.js';
import type { RelayStore } from './relay-store.js';

/** Events of an {@link OutboxRelay}. */
export interface OutboxRelayEvents {
  /** A page of changes was confirmed by the broker and the cursor saved. */
  'relay:published': (e: { count: number; cursor: number; oldestMs: number }) => void;
  /** Publishing or saving failed; the relay retries from its saved cursor after `retryInMs`. */
  'relay:error': (e: { error: Error; retryInMs: number }) => void;
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** The store whose feed is the outbox: an `EventStore`, or Harpoon in process or over HTTP. */
  store: RelayStore;
  /** Where to publish. */
  bus: MessageBus;
  /** Where the cursor is saved. */
  cursors: RelayCursorStore;
  /** Cursor name: one per relay deployment (default `harpoon`). Two relays with one name duplicate work. */
  name?: string;
  /** Changes per publish round (default 500). */
  batchSize?: number;
  /** Publish rounds awaiting their confirms at once (default 4); the cursor advances in order. */
  maxInFlight?: number;
  /** Poll interval for other processes' commits, ms (default 50; local commits wake it at once). */
  pollMs?: number;
  /** Logger (default: no-op). */
  logger?: Logger;
}

const schema = z
  .object({
    name: nameSchema.default('harpoon'),
    batchSize: z.number().int().min(1).max(10_000).default(500),
    pollMs: z.number().int().min(1).max(60_000).default(50),
    maxInFlight: z.number().int().min(1).max(64).default(4),
  })
  .strict();

/** The message id of a change: stable across republishes, distinct per version. */
export function changeMessageId(e: Pick<StoredEvent, 'id' | 'version'>): string {
  return `event:${e.id}:v${e.version}`;
}

/** The message that carries one changed event. */
export function changeMessage(e: StoredEvent): OutgoingMessage {
  return {
    id: changeMessageId(e),
    routingKey: eventRoutingKey(e),
    body: toWireEvent(e) as unknown as OutgoingMessage['body'],
    headers: { status: e.status, seq: e.seq },
  };
}

/**
 * Follows the store's feed from the saved cursor and publishes each change, in feed order
 * (so in commit order per server), at least once.
 */
export class OutboxRelay extends EventEmitter<OutboxRelayEvents> {
  readonly #o: z.output<typeof schema>;
  readonly #store: RelayStore;
  readonly #bus: MessageBus;
  readonly #cursors: RelayCursorStore;
  readonly #log: Logger;
  #abort: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #cursor = 0;
  #published = 0;

  /** @param options - store, bus, cursor store and limits; validated here */
  constructor(options: OutboxRelayOptions) {
    super();
    const { store, bus, cursors, logger, ...rest } = options;
    this.#o = parseOrThrow(schema, rest, 'OutboxRelay options');
    this.#store = store;
    this.#bus = bus;
    this.#cursors = cursors;
    this.#log = (logger ?? noopLogger).child('relay');
  }

  /** The feed position published and saved so far. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Changes published since start. */
  get published(): number {
    return this.#published;
  }

  /** Start relaying (idempotent). */
  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  /** How far behind the feed head the relay is, in positions. */
  async lag(): Promise<number> {
    return Math.max(0, (await this.#store.head()) - this.#cursor);
  }

  /** Stop after the round in flight; what it published is saved. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#loop = null;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.#relayFromSavedCursor(signal);
        failures = 0;
      } catch (err) {
        if (signal.aborted || this.#store.closed === true) return;
        const retryInMs = backoffDelay(failures++, { initialMs: 50, maxMs: 5_000 });
        this.#log.warn('relay round failed; resuming from the saved cursor', {
          error: (err as Error).message,
          retryInMs,
        });
        this.emit('relay:error', { error: err as Error, retryInMs });
        await sleep(retryInMs, signal);
      }
    }
  }

  /**
   * Publish page after page. A page is published while the next one is read; confirms are awaited
   * and the cursor saved strictly in feed order, by a chain that runs beside the reader. A failed
   * round stops the reader, and the caller resumes from the saved cursor.
   */
  async #relayFromSavedCursor(signal: AbortSignal): Promise<void> {
    this.#cursor = await this.#cursors.load(this.#o.name);
    const failed = new AbortController();
    let error: unknown = null;
    let chain: Promise<void> = Promise.resolve();
    const rounds: Promise<void>[] = [];
    for await (const page of this.#store.follow(this.#cursor, {
      pollMs: this.#o.pollMs,
      limit: this.#o.batchSize,
      signal: AbortSignal.any([signal, failed.signal]),
    })) {
      const published = this.#bus.publishMany(page.events.map(changeMessage));
      published.catch(() => {}); // handled in order by the chain below; never unhandled meanwhile
      const oldest = Math.min(...page.events.map((e) => e.updatedAt.getTime()));
      chain = chain
        .then(() => {
          // A page after a failed one must not save its cursor: that would skip the failed page.
          if (error) throw error;
          return published;
        })
        .then(() => this.#cursors.save(this.#o.name, page.cursor))
        .then(() => {
          this.#cursor = page.cursor;
          this.#published += page.events.length;
          this.emit('relay:published', {
            count: page.events.length,
            cursor: page.cursor,
            oldestMs: Date.now() - oldest,
          });
        })
        .catch((err: unknown) => {
          error ??= err;
          failed.abort();
        });
      rounds.push(chain);
      if (rounds.length >= this.#o.maxInFlight) await rounds.shift();
    }
    await chain;
    if (error) throw error;
  }
}
