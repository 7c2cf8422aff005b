/**
 * The agent's local bookkeeping: which event versions it has seen (so a redelivery is recognised
 * by id and version), which events are queued, running or finished, and which acknowledgements
 * the router has not confirmed yet (re-sent after a reconnect until it has).
 *
 * @internal
 * @module
 */
import { Buffer } from 'node:buffer';
import type { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import { fitError } from '../../events/limits.js';
import type { JsonValue, StoredEvent } from '../../events/model.js';
import { isTerminal } from '../../events/status.js';
import type { TraceContext } from '../../events/trace-context.js';
import type { Logger } from '../../logger.js';
import { backoffDelay } from '../../retry.js';
import { agentHandleSpan } from '../../tracing/spans.js';
import { traceContextOfSpan, withSpan } from '../../tracing/tracing.js';
import { BoundedMap } from '../bounded-map.js';
import { type AckFrameItem, type AckResult, MAX_FRAME_BYTES } from '../protocol.js';
import type { AgentEvents } from './agent-events.js';
import type { AgentHandler } from './agent-options.js';
import { checkResult } from './result-check.js';

const RETRYABLE = new Set(['BUSY', 'UNAVAILABLE']);
/** `{"type":"ack","acks":[]}` around the acknowledgements of a frame. */
const ACK_FRAME_ENVELOPE = 24;
/** Acknowledgements wait this long to be sent together: at most ~200 ack frames a second. */
const ACK_FLUSH_MS = 5;

/** @internal What the work tracker needs from its agent. */
export interface AgentWorkHost {
  readonly serverId: string;
  readonly handlers: Readonly<Record<string, AgentHandler | undefined>>;
  readonly parse: ((type: string, payload: unknown) => unknown) | undefined;
  readonly ackRunning: boolean;
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly maxRemembered: number;
  readonly events: EventEmitter<AgentEvents>;
  readonly log: Logger;
  /** Send acknowledgements now if connected; they stay outstanding either way until answered. */
  sendAcks(acks: readonly AckFrameItem[]): void;
}

interface Job {
  readonly abort: AbortController;
  started: boolean;
}

/** @internal */
export class AgentWork {
  readonly #h: AgentWorkHost;
  readonly #seen: BoundedMap<number, number>;
  readonly #finished: BoundedMap<number, 'done' | 'failed'>;
  readonly #active = new Map<number, Job>();
  readonly #outstanding = new Map<string, AckFrameItem>();
  /** Each outstanding acknowledgement's size as JSON, to cut frames by bytes. */
  readonly #sizes = new WeakMap<AckFrameItem, number>();
  readonly #queue: PQueue;
  #unsent: AckFrameItem[] = [];
  #flushQueued = false;
  #retries = 0;
  readonly #retryKeys = new Set<string>();
  #retryTimer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(host: AgentWorkHost) {
    this.#h = host;
    this.#seen = new BoundedMap(host.maxRemembered);
    this.#finished = new BoundedMap(host.maxRemembered);
    this.#queue = new PQueue({ concurrency: host.concurrency });
  }

  /** Events queued or running. */
  get active(): number {
    return this.#active.size;
  }

  /** Acknowledgements not confirmed by a router yet. */
  get unconfirmed(): number {
    return this.#outstanding.size;
  }

  /** Take in one delivered event: skip what was seen, abort what was cancelled, start new work. */
  receive(event: StoredEvent): void {
    const h = this.#h;
    const seen = this.#seen.get(event.id);
    if (seen !== undefined && event.version <= seen) {
      h.events.emit('agent:redelivery', { id: event.id, version: event.version });
      return;
    }
    this.#seen.set(event.id, event.version);
    const job = this.#active.get(event.id);
    if (isTerminal(event.status)) {
      job?.abort.abort(new Error(`event ${event.id} is ${event.status}`));
      return;
    }
    // Known work: an echo of our own progress, or a newer version of something already handled.
    if (job || this.#finished.has(event.id) || this.#stopped) return;
    const redelivery = event.status === 'running';
    h.events.emit('agent:event', { event, redelivery });
    if (this.#active.size >= h.maxQueued) {
      this.#finish(event.id, 'failed', event.traceContext, `agent overloaded: ${h.maxQueued} events queued`);
      return;
    }
    const abort = new AbortController();
    this.#active.set(event.id, { abort, started: false });
    void this.#queue.add(() => this.#run(event, abort.signal, redelivery));
  }

  /** Re-send every unconfirmed acknowledgement (after a reconnect). */
  resend(): void {
    this.#retryKeys.clear();
    this.#unsent = [...this.#outstanding.values()];
    this.#scheduleFlush();
  }

  /** The router's answers. */
  results(results: readonly AckResult[]): void {
    let retry = false;
    for (const r of results) {
      const key = `${r.id}:${r.status}`;
      const ack = this.#outstanding.get(key);
      if (!ack) continue;
      if (!r.ok && r.code && RETRYABLE.has(r.code)) {
        this.#retryKeys.add(key);
        retry = true;
        continue;
      }
      this.#outstanding.delete(key);
      if (r.status !== 'running') this.#outstanding.delete(`${r.id}:running`);
      if (!r.ok && r.status === 'running' && r.actual && isTerminal(r.actual)) {
        this.#active.get(r.id)?.abort.abort(new Error(`event ${r.id} is ${r.actual}`));
      }
      this.#h.events.emit('agent:acked', {
        id: r.id,
        status: r.status,
        ok: r.ok,
        ...(r.code ? { code: r.code } : {}),
      });
    }
    if (retry) this.#scheduleRetry();
    else this.#retries = 0;
  }

  /** Abort every handler (the agent is stopping). */
  stop(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#queue.clear();
    for (const job of this.#active.values()) job.abort.abort(new Error('agent stopped'));
  }

  async #run(event: StoredEvent, signal: AbortSignal, redelivery: boolean): Promise<void> {
    const h = this.#h;
    const job = this.#active.get(event.id);
    if (!job || signal.aborted) return void this.#active.delete(event.id);
    job.started = true;
    if (h.ackRunning && event.status !== 'running') {
      const tc = event.traceContext;
      this.#ack({ id: event.id, status: 'running', ...(tc ? { traceContext: tc } : {}) });
    }
    const handler = h.handlers[event.type];
    let trace: TraceContext | null = event.traceContext;
    try {
      if (!handler) throw new Error(`no handler for event type ${event.type}`);
      const payload = h.parse ? h.parse(event.type, event.payload) : event.payload;
      // The handler runs inside the span, so that the user's own spans nest under it.
      const result = await withSpan(
        'ctlplane.agent.handle',
        () => agentHandleSpan(event, redelivery),
        (span) => {
          // Carried back with the acknowledgement: the handler span, else the event's own context.
          trace = traceContextOfSpan(span) ?? event.traceContext;
          return Promise.resolve(
            handler({ ...event, payload }, { signal, redelivery, serverId: h.serverId }),
          );
        },
      );
      if (signal.aborted) return void this.#active.delete(event.id);
      if (result === undefined || result === null) return this.#finish(event.id, 'done', trace);
      const checked = checkResult(result);
      if ('problem' in checked) this.#finish(event.id, 'failed', trace, checked.problem);
      else this.#finish(event.id, 'done', trace, undefined, checked.result);
    } catch (err) {
      if (signal.aborted) return void this.#active.delete(event.id);
      this.#finish(event.id, 'failed', trace, err instanceof Error ? err.message : String(err));
    }
  }

  #finish(
    id: number,
    status: 'done' | 'failed',
    trace: TraceContext | null,
    error?: string,
    result?: JsonValue,
  ): void {
    this.#active.delete(id);
    this.#finished.set(id, status);
    const message = error === undefined ? undefined : fitError(error);
    this.#ack({
      id,
      status,
      ...(message !== undefined ? { error: message } : {}),
      ...(result !== undefined ? { result } : {}),
      ...(trace ? { traceContext: trace } : {}),
    });
    this.#h.events.emit('agent:handled', {
      id,
      status,
      ...(message !== undefined ? { error: message } : {}),
    });
  }

  #ack(ack: AckFrameItem): void {
    if (this.#stopped) return;
    this.#sizes.set(ack, Buffer.byteLength(JSON.stringify(ack)));
    this.#outstanding.set(`${ack.id}:${ack.status}`, ack);
    this.#unsent.push(ack);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // At most one batch of ack frames per ACK_FLUSH_MS: acks finishing in separate turns of the
    // loop would otherwise each send a frame, and a busy agent could pass the router's
    // maxFramesPerSecond (1,000) and be closed with rate-limited.
    setTimeout(() => {
      this.#flushQueued = false;
      const unsent = this.#unsent;
      this.#unsent = [];
      // Frames of at most 1,000 acknowledgements and MAX_FRAME_BYTES, as the router accepts.
      let frame: AckFrameItem[] = [];
      let bytes = ACK_FRAME_ENVELOPE;
      for (const ack of unsent) {
        const size = (this.#sizes.get(ack) ?? 0) + 1;
        if (frame.length >= 1_000 || (frame.length > 0 && bytes + size > MAX_FRAME_BYTES)) {
          this.#h.sendAcks(frame);
          frame = [];
          bytes = ACK_FRAME_ENVELOPE;
        }
        frame.push(ack);
        bytes += size;
      }
      if (frame.length > 0) this.#h.sendAcks(frame);
    }, ACK_FLUSH_MS);
  }

  #scheduleRetry(): void {
    if (this.#retryTimer || this.#stopped) return;
    const delay = backoffDelay(this.#retries++, { initialMs: 200, maxMs: 10_000 });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      for (const key of this.#retryKeys) {
        const ack = this.#outstanding.get(key);
        if (ack) this.#unsent.push(ack);
      }
      this.#retryKeys.clear();
      this.#scheduleFlush();
    }, delay);
    this.#retryTimer.unref();
  }
}
