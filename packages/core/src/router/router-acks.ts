/**
 * Acknowledgements: checked against the agent's identity (an agent may only move its own
 * server's events), applied in batches, answered with one `acked` frame per agent and batch.
 *
 * @internal
 * @module
 */
import { isCtlplaneError } from '../errors.js';
import type { StoredEvent, TransitionOutcome } from '../events/model.js';
import { AckBatcher, type PendingAck } from './ack-batcher.js';
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
      apply: (inputs) => core.gate.run('transition', () => o.store.transitionMany(inputs)),
      settle: (items, outcomes) => this.#settle(items, outcomes),
    });
  }

  /** Acknowledgements queued or in flight. */
  get pending(): number {
    return this.#batcher.pending;
  }

  /** Apply everything queued. */
  drain(): Promise<void> {
    return this.#batcher.drain();
  }

  /** Acknowledgements from one agent. */
  receive(session: AgentSession, acks: readonly AckFrameItem[]): void {
    const core = this.#core;
    core.counters.acks.received += acks.length;
    const mine: PendingAck<AgentSession>[] = [];
    const refused: AckResult[] = [];
    for (const ack of acks) {
      const owner = core.open.owner(ack.id);
      if (owner === session.serverId) mine.push({ session, ack });
      else if (owner !== undefined) refused.push(refusal(ack, 'UNAUTHORIZED', 'event is not on this server'));
      else void this.#verify(session, ack);
    }
    for (const p of this.#batcher.add(mine)) refused.push(refusal(p.ack, 'BUSY', 'router ack queue is full'));
    this.#refuse(session, refused);
  }

  /** An event the router has not seen (another replica delivered it): read it once to check its server. */
  async #verify(session: AgentSession, ack: AckFrameItem): Promise<void> {
    const core = this.#core;
    try {
      const e = await core.gate.run('get', () => core.opts.store.get(ack.id), true);
      if (e && e.serverId === session.serverId && e.region === core.opts.region) {
        const busy = this.#batcher.add([{ session, ack }]);
        if (busy.length > 0) this.#refuse(session, [refusal(ack, 'BUSY', 'router ack queue is full')]);
      } else {
        this.#refuse(session, [
          refusal(ack, e ? 'UNAUTHORIZED' : 'NOT_FOUND', 'event is not on this server'),
        ]);
      }
    } catch (err) {
      const code = isCtlplaneError(err, 'BUSY') ? 'BUSY' : 'UNAVAILABLE';
      this.#refuse(session, [refusal(ack, code, 'could not check the event')]);
    }
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
    items.forEach(({ session, ack }, i) => {
      const result =
        outcomes instanceof Error ? batchFailure(ack, outcomes) : outcomeResult(ack, outcomes[i]);
      if (result.ok) core.counters.acks.applied++;
      else {
        core.counters.acks.failed++;
        failed++;
      }
      const o = outcomes instanceof Error ? undefined : outcomes[i];
      if (o?.ok) applied.push(o.event);
      const list = bySession.get(session) ?? [];
      bySession.set(session, list);
      list.push(result);
    });
    if (outcomes instanceof Error)
      core.log.warn('ack batch failed', { count: items.length, error: outcomes.message });
    core.ingest(applied, undefined, false);
    for (const [session, results] of bySession)
      core.send(session, JSON.stringify({ type: 'acked', results }));
    core.events.emit('router:acks:applied', { count: items.length, failed });
  }
}

function refusal(ack: AckFrameItem, code: string, message: string): AckResult {
  return { id: ack.id, status: ack.status, ok: false, code, message };
}

function batchFailure(ack: AckFrameItem, err: Error): AckResult {
  const code = isCtlplaneError(err) ? err.code : 'UNAVAILABLE';
  return refusal(ack, code === 'VALIDATION' ? code : 'UNAVAILABLE', err.message.slice(0, 200));
}

function outcomeResult(ack: AckFrameItem, outcome: TransitionOutcome | undefined): AckResult {
  if (!outcome) return refusal(ack, 'UNAVAILABLE', 'no outcome');
  if (outcome.ok) return { id: ack.id, status: ack.status, ok: true, actual: outcome.event.status };
  const err = outcome.error;
  const details = (err as { details?: { actual?: unknown } }).details;
  const actual = typeof details?.actual === 'string' ? (details.actual as AckResult['actual']) : undefined;
  // A redelivered event the agent starts again is already running: that is success.
  if (ack.status === 'running' && actual === 'running')
    return { id: ack.id, status: ack.status, ok: true, actual };
  const code = isCtlplaneError(err) ? err.code : 'UNAVAILABLE';
  return { ...refusal(ack, code, err.message.slice(0, 200)), ...(actual ? { actual } : {}) };
}
