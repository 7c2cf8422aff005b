/**
 * Acknowledgements: checked against the agent's identity (an agent may only move its own
 * server's events) and against the store's rules one by one (one agent's bad acknowledgement never
 * fails another's), applied in batches, answered with one `acked` frame per agent and batch.
 *
 * @internal
 * @module
 */
import type { StoredEvent, TransitionOutcome } from '../events/model.js';
import { transitionSchema } from '../store/schemas.js';
import { routerAckSpan } from '../tracing/spans.js';
import { withSpan } from '../tracing/tracing.js';
import { describeIssues, issuesFromZod } from '../validation.js';
import { AckBatcher, ackTransition, type PendingAck } from './ack-batcher.js';
import { checkUnknown } from './ack-check.js';
import { batchFailure, outcomeResult, refusal } from './ack-results.js';
import type { AgentSession } from './agent-session.js';
import type { AckFrameItem, AckResult } from './protocol.js';
import type { RouterCore } from './router-core.js';

/** @internal */
export class RouterAcks {
  readonly #core: RouterCore;
  readonly #batcher: AckBatcher<AgentSession>;

  constructor(core: RouterCore) {
    this.#core = core;
    const o = core.opts;
    this.#batcher = new AckBatcher<AgentSession>({
      batchSize: o.ackBatchSize,
      flushMs: o.ackFlushMs,
      maxPending: o.maxPendingAcks,
      maxPendingBytes: o.maxPendingAckBytes,
      apply: (inputs, traceContexts) =>
        withSpan(
          'ctlplane.router.ack',
          () => routerAckSpan(traceContexts),
          () => core.gate.run('transition', () => o.store.transitionMany(inputs)),
        ),
      settle: (items, outcomes) => this.#settle(items, outcomes),
      log: core.log,
    });
  }

  /** Acknowledgements queued or in flight. */
  get pending(): number {
    return this.#batcher.pending;
  }

  /** Bytes of acknowledgements queued or in flight. */
  get bytes(): number {
    return this.#batcher.bytes;
  }

  /** Apply everything queued. */
  drain(): Promise<void> {
    return this.#batcher.drain();
  }

  /** Acknowledgements from one agent, in a frame of `frameBytes` (UTF-8 bytes, as it came on the wire). */
  receive(session: AgentSession, acks: readonly AckFrameItem[], frameBytes: number): void {
    const core = this.#core;
    core.counters.acks.received += acks.length;
    const bytes = Math.ceil(frameBytes / acks.length);
    const mine: PendingAck<AgentSession>[] = [];
    const refused: AckResult[] = [];
    const out = {
      accept: (s: AgentSession, ack: AckFrameItem, b: number) =>
        this.#enqueue([{ session: s, ack, bytes: b }]),
      refuse: (s: AgentSession, results: AckResult[]) => this.#refuse(s, results),
    };
    for (const ack of acks) {
      const invalid = transitionSchema.safeParse(ackTransition(ack));
      if (!invalid.success) {
        refused.push(
          refusal(ack, 'VALIDATION', describeIssues(issuesFromZod(invalid.error)).slice(0, 1_000)),
        );
        continue;
      }
      const owner = core.open.owner(ack.id);
      if (owner === session.serverId) mine.push({ session, ack, bytes });
      else if (owner !== undefined) refused.push(refusal(ack, 'UNAUTHORIZED'));
      else if (!checkUnknown(core, out, session, ack, bytes)) refused.push(refusal(ack, 'BUSY'));
    }
    this.#refuse(session, refused);
    this.#enqueue(mine);
  }

  #enqueue(items: PendingAck<AgentSession>[]): void {
    if (items.length === 0) return;
    const busy = this.#batcher.add(items);
    for (const p of busy) this.#refuse(p.session, [refusal(p.ack, 'BUSY')]);
  }

  #refuse(session: AgentSession, results: AckResult[]): void {
    if (results.length === 0) return;
    this.#core.counters.acks.refused += results.length;
    this.#core.send(session, JSON.stringify({ type: 'acked', results }));
  }

  #settle(items: readonly PendingAck<AgentSession>[], outcomes: readonly TransitionOutcome[] | Error): void {
    const core = this.#core;
    const bySession = new Map<AgentSession, AckResult[]>();
    const applied: StoredEvent[] = [];
    let failed = 0;
    let storeError: Error | null = outcomes instanceof Error ? outcomes : null;
    items.forEach(({ session, ack }, i) => {
      const o = outcomes instanceof Error ? undefined : outcomes[i];
      const result = outcomes instanceof Error ? batchFailure(ack, outcomes) : outcomeResult(ack, o);
      if (result.ok) core.counters.acks.applied++;
      else {
        core.counters.acks.failed++;
        failed++;
        if (o && !o.ok && result.code !== 'CONFLICT') storeError ??= o.error;
      }
      if (o?.ok) applied.push(o.event);
      const list = bySession.get(session) ?? [];
      bySession.set(session, list);
      list.push(result);
    });
    // The store's own words go to the log only: they can name accounts, hosts and tables.
    if (storeError)
      core.log.warn('acknowledgements refused by the store', {
        count: items.length,
        failed,
        error: storeError.message,
      });
    core.ingest(applied, undefined, false);
    for (const [session, results] of bySession)
      core.send(session, JSON.stringify({ type: 'acked', results }));
    core.events.emit('router:acks:applied', { count: items.length, failed });
  }
}
