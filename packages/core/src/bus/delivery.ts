/**
 * The delivery object and handler rules every bus backend shares, so that "settle once", "ack on
 * return" and "requeue on throw" mean the same on memory and on RabbitMQ.
 *
 * @module
 */
import { otel } from '../tracing/otel.js';
import { traceContextOf } from '../tracing/propagation.js';
import { runInTraceContext } from '../tracing/tracing.js';
import type { BusMessage, Delivery, DeliveryHandler } from './message-bus.js';

/** How a delivery was settled: acked, sent back to the queue, or dead-lettered. */
export type Settlement = 'ack' | 'requeue' | 'dead-letter';

/**
 * A delivery that settles at most once, through `settle`: what a bus adapter hands each handler.
 */
export class BusDelivery implements Delivery {
  /** The message. */
  readonly message: BusMessage;
  /** The queue it came from. */
  readonly queue: string;
  readonly #settle: (s: Settlement) => void;
  #settlement: Settlement | null = null;

  /** @param settle - carries the first settlement out; never called twice */
  constructor(message: BusMessage, queue: string, settle: (s: Settlement) => void) {
    this.message = message;
    this.queue = queue;
    this.#settle = settle;
  }

  /** True once settled. */
  get settled(): boolean {
    return this.#settlement !== null;
  }

  /** How it was settled, or null. */
  get settlement(): Settlement | null {
    return this.#settlement;
  }

  /** Remove the message from the queue. */
  ack(): void {
    this.#apply('ack');
  }

  /** Requeue (counted toward the delivery limit) or, without `requeue`, dead-letter. */
  nack(options: { requeue?: boolean } = {}): void {
    this.#apply(options.requeue === false ? 'dead-letter' : 'requeue');
  }

  /** Dead-letter the message now. */
  reject(): void {
    this.#apply('dead-letter');
  }

  #apply(s: Settlement): void {
    if (this.#settlement !== null) return;
    this.#settlement = s;
    this.#settle(s);
  }
}

/** @internal Any thrown value as an Error. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Run `handler` under the bus rules: returning without settling acks (with `autoAck`), throwing
 * without settling requeues, and `onError` hears of the throw. Never throws. The handler runs with
 * the trace context of the message's headers as its active remote parent, so the spans it starts
 * join the publisher's trace (no span of the bus's own: the handler's span is the consumer's).
 */
export function runHandler(
  delivery: BusDelivery,
  handler: DeliveryHandler,
  autoAck: boolean,
  onError: (err: Error) => void,
): Promise<void> {
  // No async function and no await: a handler that returns at once costs no promise of its own
  // (each one costs more with a context manager registered, as tracing does).
  const fail = (err: unknown): void => {
    if (!delivery.settled) onError(toError(err));
    delivery.nack({ requeue: true });
  };
  const done = (): void => {
    try {
      if (autoAck) delivery.ack();
    } catch (err) {
      fail(err);
    }
  };
  let out: unknown;
  try {
    // The headers are parsed only when tracing is possible at all.
    const tc = otel() ? traceContextOf(delivery.message) : null;
    out = tc ? runInTraceContext(tc, () => handler(delivery)) : handler(delivery);
  } catch (err) {
    return settleNow(() => fail(err));
  }
  return isThenable(out) ? Promise.resolve(out).then(done, fail) : settleNow(done);
}

/** What {@link runHandler} returns for a handler that returned at once: already resolved. */
const SETTLED: Promise<void> = Promise.resolve();

/** Run `step` now: {@link SETTLED}, or a rejected promise when `step` threw (never a throw). */
function settleNow(step: () => void): Promise<void> {
  try {
    step();
    return SETTLED;
  } catch (err) {
    return Promise.reject(err);
  }
}

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  typeof (x as { then?: unknown } | null)?.then === 'function';
