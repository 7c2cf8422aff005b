/**
 * The router's shared state and its dispatch path: changes in (from any input or from applied
 * acknowledgements), deduplicated by (id, version), recorded in the open set and the history, and
 * queued only for the agent of the event's server; one flush per tick sends every queue.
 *
 * @internal
 * @module
 */

import type { EventEmitter } from 'eventemitter3';
import type { StoredEvent } from '../events/model.js';
import type { Logger } from '../logger.js';
import { recordRouterDelivery } from '../tracing/spans.js';
import type { AgentSession } from './agent-session.js';
import { CLOSE_CODES, type CloseReason, type DisconnectReason } from './close-reasons.js';
import { CursorGuard } from './cursor-guard.js';
import { HeadReads } from './head-reads.js';
import { History } from './history.js';
import { OpenSet } from './open-set.js';
import { encodeEvent } from './protocol.js';
import { QueryGate } from './query-gate.js';
import type { EventRouterEvents } from './router-events.js';
import type { ParsedRouterOptions } from './router-options.js';

/** @internal Counters the stats are built from. */
export interface RouterCounters {
  delivered: number;
  bytesSent: number;
  acks: { received: number; applied: number; failed: number; refused: number };
  disconnects: Partial<Record<DisconnectReason, number>>;
  resyncs: { total: number; fromStore: number };
  duplicatesDropped: number;
}

/** @internal */
export class RouterCore {
  readonly opts: ParsedRouterOptions;
  readonly log: Logger;
  readonly events: EventEmitter<EventRouterEvents>;
  readonly gate: QueryGate;
  readonly open: OpenSet;
  readonly sessions = new Map<string, AgentSession>();
  readonly counters: RouterCounters = {
    delivered: 0,
    bytesSent: 0,
    acks: { received: 0, applied: 0, failed: 0, refused: 0 },
    disconnects: {},
    resyncs: { total: 0, fromStore: 0 },
    duplicatesDropped: 0,
  };
  history: History;
  cursor = 0;
  readonly guard: CursorGuard;
  /** Shared reads of the store's head (a hello's cursor, acknowledgements of unknown events). */
  readonly heads: HeadReads;
  readonly #dirty = new Set<AgentSession>();
  #flushScheduled = false;

  constructor(opts: ParsedRouterOptions, log: Logger, events: EventEmitter<EventRouterEvents>) {
    this.opts = opts;
    this.log = log;
    this.events = events;
    this.gate = new QueryGate(opts.maxDbConcurrency, opts.maxQueuedQueries);
    this.open = new OpenSet(opts.maxOpenEvents, opts.maxOpenEventBytes, Math.max(10_000, opts.historySize));
    this.history = new History(opts.historySize, opts.maxHistoryBytes, 0);
    this.guard = new CursorGuard({
      everyMs: 1_000,
      readHead: () => this.gate.run('head', () => opts.store.head()),
      advance: (position) => {
        this.cursor = Math.max(this.cursor, position);
      },
      bogus: (positions, head) => {
        const error = new Error(
          `${positions.length} pushed change(s) claim feed positions beyond the store's head ${head} (up to ${Math.max(...positions)}); the cursor ignores them`,
        );
        log.warn('pushed changes beyond the store head', { count: positions.length, head });
        events.emit('router:input:error', { input: 'pushed', error });
      },
    });
    this.heads = new HeadReads(async () => {
      const head = await this.gate.run('head', () => opts.store.head(), true);
      this.guard.trust(head);
      return head;
    });
  }

  /** Start the history at `cursor`, with the region's open events loaded by a query. */
  reset(cursor: number, open: readonly StoredEvent[]): void {
    this.cursor = cursor;
    this.guard.trust(cursor);
    this.history = new History(this.opts.historySize, this.opts.maxHistoryBytes, cursor);
    for (const e of open) {
      const json = encodeEvent(e);
      this.open.apply(e, json);
      // Changed after `cursor`: the feed will bring it again as a duplicate, so keep it for resume now.
      if (e.seq > cursor && e.serverId !== null)
        this.history.push({ seq: e.seq, serverId: e.serverId, json });
    }
  }

  /**
   * Take in changed events. `dispatch` false records them without sending (acknowledgements the
   * router applied itself: the agent already knows). Returns how many were new.
   */
  ingest(events: readonly StoredEvent[], cursor: number | undefined, dispatch = true): number {
    let fresh = 0;
    let maxSeq = this.cursor;
    for (const e of events) {
      if (e.region !== this.opts.region) continue;
      const known = this.open.version(e.id);
      if (known !== undefined && e.version <= known) {
        this.counters.duplicatesDropped++;
        continue;
      }
      fresh++;
      if (e.seq > maxSeq) maxSeq = e.seq;
      if (e.serverId === null) continue;
      const json = encodeEvent(e);
      this.open.apply(e, json);
      // Completion is the agent's own doing; every other change of a placed event is delivered.
      if (!dispatch || e.status === 'done') continue;
      this.history.push({ seq: e.seq, serverId: e.serverId, json });
      const session = this.sessions.get(e.serverId);
      if (session) this.offer(session, json, e.seq);
      if (e.traceContext)
        recordRouterDelivery(e, cursor === undefined ? 'push' : 'poll', session !== undefined);
    }
    if (!dispatch) {
      // Outcomes of acks the router applied: positions the store itself assigned.
      for (const e of events) this.guard.trust(e.seq);
    } else if (cursor !== undefined) {
      // A read of the store's feed: its cursor is a position the store vouches for.
      this.guard.trust(cursor);
      this.cursor = Math.max(this.cursor, cursor);
    } else if (maxSeq > this.cursor) {
      const usable = this.guard.offer(maxSeq);
      if (usable !== null) this.cursor = Math.max(this.cursor, usable);
    }
    return fresh;
  }

  /** Queue an event for one agent, cutting it off when it is too far behind. */
  offer(session: AgentSession, json: string, seq: number): void {
    if (session.state === 'live' || session.state === 'syncing') {
      if (session.pushEvent(json, seq) > this.opts.maxBufferedEvents) {
        this.drop(session, 'slow-consumer', `more than ${this.opts.maxBufferedEvents} events buffered`);
        return;
      }
      if (session.state === 'live') this.markDirty(session);
    }
  }

  /** Send a control frame: in order with queued events when live, at once otherwise. */
  send(session: AgentSession, frame: string): void {
    if (session.state === 'closed') return;
    if (session.state === 'live') {
      session.pushFrame(frame, this.cursor);
      this.markDirty(session);
    } else {
      this.sendNow(session, frame);
    }
  }

  /**
   * Send a frame at once, ahead of anything queued. An agent whose transport still holds more than
   * `maxBufferedBytes` is not reading: it is cut off with `slow-consumer` in every state, so what
   * the router holds for it stays within that bound plus one frame.
   */
  sendNow(session: AgentSession, frame: string): void {
    if (session.state === 'closed') return;
    if (session.conn.bufferedAmount > this.opts.maxBufferedBytes) {
      this.drop(session, 'slow-consumer', `more than ${this.opts.maxBufferedBytes} bytes unsent`);
      return;
    }
    this.write(session, frame);
  }

  /** Hand a frame to the transport, unchecked: for callers that pace themselves (snapshots). */
  write(session: AgentSession, frame: string): void {
    if (session.state === 'closed') return;
    session.conn.send(frame);
    session.bytesSent += frame.length;
    this.counters.bytesSent += frame.length;
  }

  markDirty(session: AgentSession): void {
    this.#dirty.add(session);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Send every queued frame; agents whose transport holds too much are cut off. */
  flush(): void {
    this.#flushScheduled = false;
    let events = 0;
    let agents = 0;
    for (const s of this.#dirty) {
      if (s.state !== 'live') continue;
      const before = s.bytesSent;
      const n = s.flush(this.cursor);
      this.counters.bytesSent += s.bytesSent - before;
      if (n > 0) {
        events += n;
        agents++;
      }
      if (s.conn.bufferedAmount > this.opts.maxBufferedBytes) {
        this.drop(s, 'slow-consumer', `more than ${this.opts.maxBufferedBytes} bytes unsent`);
      }
    }
    this.#dirty.clear();
    if (events > 0) {
      this.counters.delivered += events;
      this.events.emit('router:delivered', { events, agents });
    }
  }

  /** Close a session on purpose with a named reason. */
  drop(session: AgentSession, reason: CloseReason, message: string): void {
    if (session.state === 'closed') return;
    session.conn.close(CLOSE_CODES[reason], message.slice(0, 120));
    this.ended(session, reason, message);
  }

  /** A session is over (closed by us, by the agent, or by the network). */
  ended(session: AgentSession, reason: DisconnectReason, message: string): void {
    if (session.state === 'closed') return;
    const wasServed = session.state !== 'hello';
    session.state = 'closed';
    this.#dirty.delete(session);
    this.counters.disconnects[reason] = (this.counters.disconnects[reason] ?? 0) + 1;
    if (!session.serverId || !wasServed) return;
    if (this.sessions.get(session.serverId) === session) this.sessions.delete(session.serverId);
    this.log.info('agent disconnected', { serverId: session.serverId, reason });
    this.events.emit('router:agent:disconnected', {
      serverId: session.serverId,
      sessionId: session.id,
      reason,
      message,
    });
  }
}
