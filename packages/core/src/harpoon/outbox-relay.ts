/**
 * The transactional outbox relay: publishes every committed change of the events table to the
 * message bus, with broker confirms, and advances its saved cursor only after the confirm.
 *
 * The outbox record of a change is the change's feed position, written in the same transaction
 * as the change itself (see docs/harpoon.md); the gap-free feed is the outbox table.
 *
 * A change that can never be published (the bus refuses its message as it is: too large, a bad
 * routing key) must not stop the changes behind it: it is parked — recorded in the cursor store,
 * counted, logged — and the relay moves on. Transient failures still stop the relay, which retries
 * from its saved cursor, so nothing is skipped while the broker is away.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { z } from 'zod';
import { isUnpublishable, type MessageBus } from '../bus/message-bus.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, maxEventMessageBytes } from '../events/limits.js';
import { type Logger, noopLogger } from '../logger.js';
import { backoffDelay, sleep } from '../retry.js';
import { relayPublishSpan } from '../tracing/spans.js';
import { withSpan } from '../tracing/tracing.js';
import { nameSchema, parseOrThrow } from '../validation.js';
import type { ParkedChange, RelayCursorStore } from './cursor-store.js';
import { pageMessages, publishAround, type Unpublishable } from './relay-page.js';
import { RelayPageSize, type RelayRound } from './relay-page-size.js';
import type { RelayStore } from './relay-store.js';

export { changeMessage, changeMessageId } from './relay-page.js';

/** Events of an {@link OutboxRelay}. */
export interface OutboxRelayEvents {
  /** A publish round of changes was confirmed by the broker and the cursor saved. */
  'relay:published': (e: { count: number; cursor: number; oldestMs: number }) => void;
  /** Publishing or saving failed; the relay retries from its saved cursor after `retryInMs`. */
  'relay:error': (e: { error: Error; retryInMs: number }) => void;
  /** A change can never be published: it was parked (recorded, logged) and the relay moved past it. */
  'relay:parked': (e: { eventId: number; version: number; seq: number; reason: string }) => void;
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
  /** Changes per publish round at most (default 500). */
  batchSize?: number;
  /**
   * Bytes of changes per publish round at most (default 4 MiB; 64 KiB to 256 MiB; one change
   * always goes): rounds of large changes hold fewer of them, so what is encoded and awaiting
   * confirms stays bounded, and so does the wait of the changes behind. Reads are sized by count,
   * the first as if every change were the largest the store allows, later ones from the changes
   * just seen; a read of large changes right after small ones can hold more than this, and is
   * published in several rounds.
   */
  maxPageBytes?: number;
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
    maxPageBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * 1024 * 1024)
      .default(4 * 1024 * 1024),
    pollMs: z.number().int().min(1).max(60_000).default(50),
    maxInFlight: z.number().int().min(1).max(64).default(4),
  })
  .strict();

/** Thrown through a round to start the next one from the saved cursor at once (not a failure). */
class Restart extends Error {}

/** The publish rounds of one pass from the saved cursor: their order chain and first failure. */
interface RoundState {
  error: unknown;
  chain: Promise<void>;
  readonly failed: AbortController;
}

const parkedLimitSchema = z.number().int().min(1).max(1_000);

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
  #parked = 0;

  /** @param options - store, bus, cursor store and limits; validated here */
  constructor(options: OutboxRelayOptions) {
    super();
    const { store, bus, cursors, logger, ...rest } = options;
    this.#o = parseOrThrow(schema, rest, 'OutboxRelay options');
    this.#store = store;
    this.#bus = bus;
    this.#cursors = cursors;
    this.#log = (logger ?? noopLogger).child('relay');
    const needed = store.limits ? maxEventMessageBytes(store.limits.maxPayloadBytes) : 0;
    if (bus.maxMessageBytes < needed) {
      this.#log.warn(
        'the bus carries smaller messages than the store accepts: the largest changes will be parked',
        {
          busMaxMessageBytes: bus.maxMessageBytes,
          largestEventMessageBytes: needed,
        },
      );
    }
  }

  /** The feed position published and saved so far. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Changes published since start. */
  get published(): number {
    return this.#published;
  }

  /** Changes this process parked since start (each is also in {@link OutboxRelay.parkedChanges}). */
  get parked(): number {
    return this.#parked;
  }

  /**
   * The changes this relay (by cursor name, across restarts) parked because they can never be
   * published, newest first: an operator's list of what consumers never heard of.
   *
   * @param limit - at most this many (1 to 1,000; default 100)
   */
  async parkedChanges(limit = 100): Promise<ParkedChange[]> {
    return this.#cursors.parked(this.#o.name, parseOrThrow(parkedLimitSchema, limit, 'limit'));
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
        if (err instanceof Restart) {
          failures = 0;
          continue;
        }
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
   * Publish page after page. A page is cut into rounds of at most `maxPageBytes`; a round is
   * published while the next one is read; confirms are awaited and the cursor saved strictly in
   * feed order, by a chain that runs beside the reader. A failed round stops the reader, and the
   * caller resumes from the saved cursor.
   */
  async #relayFromSavedCursor(signal: AbortSignal): Promise<void> {
    this.#cursor = await this.#cursors.load(this.#o.name);
    const largest = maxEventMessageBytes(this.#store.limits?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
    const size = new RelayPageSize(this.#o.maxPageBytes, this.#o.batchSize, largest);
    const failed = new AbortController();
    const state: RoundState = { error: null, chain: Promise.resolve(), failed };
    const rounds: Promise<void>[] = [];
    for await (const page of this.#store.follow(this.#cursor, {
      pollMs: this.#o.pollMs,
      limit: () => size.next(),
      signal: AbortSignal.any([signal, failed.signal]),
    })) {
      for (const round of size.cut(page.events, page.cursor)) {
        // A round read before a failure must not be published: the retry starts at the saved cursor.
        if (failed.signal.aborted) break;
        rounds.push(this.#round(round, state));
        if (rounds.length >= this.#o.maxInFlight) await rounds.shift();
      }
      if (failed.signal.aborted) break;
    }
    await state.chain;
    if (state.error) throw state.error;
  }

  /** Publish one round now; settle it and save its cursor after the rounds before it. */
  #round(round: RelayRound, state: RoundState): Promise<void> {
    const { messages, unbuildable } = pageMessages(round.events);
    const published =
      messages.length > 0
        ? withSpan(
            'ctlplane.relay.publish',
            () => relayPublishSpan(messages.map((m) => m.event)),
            () => this.#bus.publishMany(messages.map((m) => m.message)),
          )
        : Promise.resolve();
    published.catch(() => {}); // handled in order by the chain below; never unhandled meanwhile
    const oldest = Math.min(...round.events.map((e) => e.updatedAt.getTime()));
    let outcome = { parked: 0, restart: false };
    state.chain = state.chain
      .then(async () => {
        // A round after a failed one must not save its cursor: that would skip the failed round.
        if (state.error) throw state.error;
        outcome = await this.#settle(published, messages, unbuildable);
      })
      .then(() => this.#cursors.save(this.#o.name, round.cursor))
      .then(() => {
        this.#cursor = round.cursor;
        this.#published += round.events.length - outcome.parked;
        this.emit('relay:published', {
          count: round.events.length - outcome.parked,
          cursor: round.cursor,
          oldestMs: Date.now() - oldest,
        });
        // Rounds read after this one were published before its retried messages: publish them
        // again, after, so the last message of every event is still its latest version.
        if (outcome.restart) throw new Restart();
      })
      .catch((err: unknown) => {
        state.error ??= err;
        state.failed.abort();
      });
    return state.chain;
  }

  /**
   * Wait for a page's confirms. When the bus refused the page for good, publish it around the
   * messages it refuses; park those (and the ones that could not be built) before the cursor
   * moves past them.
   */
  async #settle(
    published: Promise<void>,
    messages: Parameters<typeof publishAround>[1],
    unbuildable: readonly Unpublishable[],
  ): Promise<{ parked: number; restart: boolean }> {
    const park = [...unbuildable];
    let restart = false;
    try {
      await published;
    } catch (err) {
      if (!isUnpublishable(err)) throw err;
      park.push(...(await publishAround(this.#bus, messages)));
      restart = true;
    }
    for (const p of park.sort((a, b) => a.event.seq - b.event.seq)) await this.#park(p);
    return { parked: park.length, restart };
  }

  async #park({ event, reason }: Unpublishable): Promise<void> {
    const change = {
      eventId: event.id,
      version: event.version,
      seq: event.seq,
      reason: reason.slice(0, 1_000),
    };
    await this.#cursors.park(this.#o.name, { ...change, parkedAt: new Date() });
    this.#parked++;
    this.#log.warn('change parked: the bus can never publish it; the relay moves past it', change);
    this.emit('relay:parked', change);
  }
}
