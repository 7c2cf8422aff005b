/**
 * One connected agent as the router sees it: its proven identity, where it is in the protocol,
 * and its bounded send buffer.
 *
 * @internal
 * @module
 */
import { FrameRate } from './frame-rate.js';
import { encodeEventsFrame, type ResyncReason } from './protocol.js';
import type { TransportConnection } from './transport.js';

/**
 * @internal `hello`: waiting for credentials; `resync-wait`: told to resync, waiting for its
 * snapshot request (live changes are not buffered: the snapshot will hold them); `syncing`: a
 * snapshot is being read (live changes are buffered); `live`: changes flow.
 */
export type SessionState = 'hello' | 'resync-wait' | 'syncing' | 'live' | 'closed';

/** @internal Target size of one `events` or `snapshot` frame; larger batches are split. */
export const FRAME_TARGET_BYTES = 256 * 1024;

/** @internal */
export class AgentSession {
  readonly id: number;
  readonly conn: TransportConnection;
  readonly openedAt: number;
  serverId: string | null = null;
  state: SessionState = 'hello';
  lastHeard: number;
  bytesSent = 0;
  resyncReason: ResyncReason = 'fresh';
  /** Store head reads started when the hello arrived: any later read bounds what the agent knew before. */
  headMark = 0;
  /** The store's head read after the hello: every event the agent heard of before is at or below it. */
  headBound: number | null = null;
  /** Acknowledgements of events the router does not hold, being checked. */
  checking = 0;
  eventsSent = 0;
  #events: string[] = [];
  #lastSeq = 0;
  #frames: string[] = [];
  #framedEvents = 0;

  /** Frames the agent may still send before it passes its rate. */
  readonly frameRate: FrameRate;

  constructor(id: number, conn: TransportConnection, now: number, framesPerSecond: number) {
    this.id = id;
    this.conn = conn;
    this.openedAt = now;
    this.lastHeard = now;
    this.frameRate = new FrameRate(framesPerSecond, now);
  }

  /** Events waiting to be sent. */
  get buffered(): number {
    return this.#events.length;
  }

  /** Queue an encoded event (changes arrive in feed order); returns the number now buffered. */
  pushEvent(json: string, seq: number): number {
    this.#events.push(json);
    if (seq > this.#lastSeq) this.#lastSeq = seq;
    return this.#events.length;
  }

  /**
   * Queue a frame after the events already queued. Those events go out first, in a frame whose
   * cursor is `cursor`: every change up to it has been queued by then.
   */
  pushFrame(text: string, cursor: number): void {
    this.#closeBatch(cursor);
    this.#frames.push(text);
  }

  /** Drop queued events (the snapshot about to be sent holds their latest state). */
  discardEvents(): void {
    this.#events = [];
  }

  /** Send everything queued; returns how many events went out. */
  flush(cursor: number): number {
    if (this.state === 'closed') return 0;
    this.#closeBatch(cursor);
    for (const f of this.#frames) {
      this.conn.send(f);
      this.bytesSent += f.length;
    }
    this.#frames = [];
    const sent = this.#framedEvents;
    this.#framedEvents = 0;
    this.eventsSent += sent;
    return sent;
  }

  #closeBatch(cursor: number): void {
    const events = this.#events;
    if (events.length === 0) return;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      bytes += events[i]!.length;
      const last = i === events.length - 1;
      if (!last && bytes < FRAME_TARGET_BYTES) continue;
      // A split batch: earlier frames carry no new cursor (the last one does).
      const c = last ? Math.max(cursor, this.#lastSeq) : 0;
      this.#frames.push(encodeEventsFrame('events', events.slice(start, i + 1), c));
      start = i + 1;
      bytes = 0;
    }
    this.#framedEvents += events.length;
    this.#events = [];
  }
}
