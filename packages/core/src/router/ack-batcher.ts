/**
 * Agents' acknowledgements become store transitions in batches: one `transitionMany` per flush,
 * one flush in flight at a time, a queue in front bounded in count and in bytes.
 *
 * @internal
 * @module
 */
import type { TransitionInput, TransitionOutcome } from '../events/model.js';
import type { TraceContext } from '../events/trace-context.js';
import type { Logger } from '../logger.js';
import type { AckFrameItem } from './protocol.js';

/** @internal One acknowledgement waiting for its batch. */
export interface PendingAck<S> {
  readonly session: S;
  readonly ack: AckFrameItem;
  /** Its share of the frame it came in (the result is most of it). */
  readonly bytes: number;
}

/** @internal The compare-and-set transition an acknowledgement stands for. */
export function ackTransition(ack: AckFrameItem): TransitionInput {
  switch (ack.status) {
    case 'running':
      return { id: ack.id, from: ['placed', 'claimed'], to: 'running' };
    case 'done':
      return {
        id: ack.id,
        from: ['placed', 'claimed', 'running'],
        to: 'done',
        ...(ack.result !== undefined ? { result: ack.result } : {}),
      };
    case 'failed':
      return {
        id: ack.id,
        from: ['placed', 'claimed', 'running'],
        to: 'failed',
        error: ack.error ?? 'failed',
      };
  }
}

/** @internal */
export interface AckBatcherOptions<S> {
  batchSize: number;
  flushMs: number;
  maxPending: number;
  maxPendingBytes: number;
  /** `traceContexts`: what each acknowledgement carried back (the agent's handler span), or null. */
  apply(
    inputs: readonly TransitionInput[],
    traceContexts: readonly (TraceContext | null)[],
  ): Promise<TransitionOutcome[]>;
  settle(items: readonly PendingAck<S>[], outcomes: readonly TransitionOutcome[] | Error): void;
  /** Where a failure of `settle` goes (a listener of its events that throws): never thrown on. */
  log: Logger;
}

/** @internal */
export class AckBatcher<S> {
  readonly #o: AckBatcherOptions<S>;
  #pending: PendingAck<S>[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  /** Acknowledgements in the batch being applied (spliced out of `#pending`). */
  #applying = 0;
  #lastStart = 0;

  constructor(options: AckBatcherOptions<S>) {
    this.#o = options;
  }

  /** Acknowledgements queued or being applied (as `bytes` counts them). */
  get pending(): number {
    return this.#pending.length + this.#applying;
  }

  /** Bytes of acknowledgements queued or being applied. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Queue acknowledgements; returns those refused because the queue is full (in count or bytes). */
  add(items: readonly PendingAck<S>[]): PendingAck<S>[] {
    const refused: PendingAck<S>[] = [];
    for (const item of items) {
      // One acknowledgement is always let in, however large, so every one can be applied eventually.
      const full = this.#bytes > 0 && this.#bytes + item.bytes > this.#o.maxPendingBytes;
      if (full || this.#pending.length >= this.#o.maxPending) refused.push(item);
      else {
        this.#pending.push(item);
        this.#bytes += item.bytes;
      }
    }
    if (this.#pending.length >= this.#o.batchSize) this.#kick();
    else if (!this.#timer && this.#pending.length > 0) {
      this.#timer = setTimeout(() => this.#kick(), this.#o.flushMs);
    }
    return refused;
  }

  /** Apply everything queued. */
  async drain(): Promise<void> {
    while (this.#pending.length > 0 || this.#inFlight) {
      this.#kick();
      await this.#inFlight;
    }
  }

  #kick(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#inFlight || this.#pending.length === 0) return;
    this.#lastStart = Date.now();
    const batch = this.#pending.splice(0, this.#o.batchSize);
    this.#applying = batch.length;
    this.#inFlight = this.#apply(batch).finally(() => {
      for (const p of batch) this.#bytes -= p.bytes;
      this.#applying = 0;
      this.#inFlight = null;
      // A steady cadence: the next partial batch starts `flushMs` after this one started, so the
      // number of store calls per second does not depend on how fast the store answers.
      if (this.#pending.length >= this.#o.batchSize) this.#kick();
      else if (this.#pending.length > 0) {
        const wait = Math.max(0, this.#lastStart + this.#o.flushMs - Date.now());
        this.#timer = setTimeout(() => this.#kick(), wait);
      }
    });
  }

  /**
   * Apply one batch and settle it. Never rejects: nobody awaits a batch started by the timer, so a
   * rejection here would be unhandled and end the process (a user's `router:acks:applied`
   * listener that throws, for one).
   */
  async #apply(batch: readonly PendingAck<S>[]): Promise<void> {
    let outcomes: readonly TransitionOutcome[] | Error;
    try {
      outcomes = await this.#o.apply(
        batch.map((p) => ackTransition(p.ack)),
        batch.map((p) => p.ack.traceContext ?? null),
      );
    } catch (err) {
      outcomes = err instanceof Error ? err : new Error(String(err));
    }
    try {
      this.#o.settle(batch, outcomes);
    } catch (err) {
      this.#o.log.error('settling a batch of acknowledgements threw; the router goes on', {
        count: batch.length,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
