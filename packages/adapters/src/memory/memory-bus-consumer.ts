/**
 * One subscription of the in-memory bus: prefetch, handler runs, settlement, cancel.
 *
 * @module
 */
import { type BusMessage, type DeliveryHandler, type Subscription, sleep } from '@ctlplane/core';
import { BusDelivery, type BusEmitter, runHandler, type Settlement } from '@ctlplane/core/driver';
import type { MemoryQueue, QueueConsumer, QueueEntry } from './memory-bus-queue.js';

/** Bodies are UTF-8 JSON. */
const UTF8 = new TextDecoder();

/** @internal What a subscription needs from its bus. */
export interface MemorySubscriptionContext {
  /** The bus, to emit its events on. */
  events: BusEmitter;
  /** Most deliveries unsettled at once. */
  prefetch: number;
  /** Ack when the handler returns without settling. */
  autoAck: boolean;
  /** How long cancel waits for handlers in flight. */
  cancelTimeoutMs: number;
  /** Called once the subscription is cancelled. */
  onCancelled(sub: MemorySubscription): void;
}

/** @internal A consumer on a {@link MemoryQueue}. */
export class MemorySubscription implements Subscription, QueueConsumer {
  /** The queue consumed. */
  readonly queue: string;
  readonly #q: MemoryQueue;
  readonly #handler: DeliveryHandler;
  readonly #ctx: MemorySubscriptionContext;
  readonly #unsettled = new Map<BusDelivery, QueueEntry>();
  readonly #running = new Set<Promise<void>>();
  #cancelling: Promise<void> | null = null;

  /** @param q - the queue to consume */
  constructor(q: MemoryQueue, handler: DeliveryHandler, ctx: MemorySubscriptionContext) {
    this.queue = q.config.name;
    this.#q = q;
    this.#handler = handler;
    this.#ctx = ctx;
    q.addConsumer(this);
  }

  /** True once cancel was called. */
  get cancelled(): boolean {
    return this.#cancelling !== null;
  }

  /** Room for another delivery. */
  hasCapacity(): boolean {
    return this.#cancelling === null && this.#unsettled.size < this.#ctx.prefetch;
  }

  /** Run the handler on one entry. */
  deliver(entry: QueueEntry): void {
    const m = entry.message;
    const message: BusMessage = Object.freeze({
      id: m.id,
      routingKey: m.routingKey,
      body: JSON.parse(UTF8.decode(m.content)),
      headers: m.headers,
      timestamp: m.timestamp,
      redelivered: entry.deliveries > 1,
      deliveryCount: entry.deliveries,
    });
    if (message.redelivered) {
      this.#ctx.events.emit('bus:redelivered', {
        queue: this.queue,
        id: m.id,
        deliveryCount: entry.deliveries,
      });
    }
    const delivery: BusDelivery = new BusDelivery(message, this.queue, (s) => this.#settle(delivery, s));
    this.#unsettled.set(delivery, entry);
    const run = runHandler(delivery, this.#handler, this.#ctx.autoAck, (error) =>
      this.#ctx.events.emit('bus:handler:failed', {
        queue: this.queue,
        id: m.id,
        deliveryCount: entry.deliveries,
        error,
      }),
    );
    this.#running.add(run);
    // One `then` (a `finally` makes two promises); it rejects only if onError or nack threw.
    const forget = (): void => void this.#running.delete(run);
    void run.then(forget, forget);
  }

  /** Stop consuming; unsettled deliveries go back to the queue once handlers in flight return. */
  cancel(): Promise<void> {
    this.#cancelling ??= this.#cancel();
    return this.#cancelling;
  }

  async #cancel(): Promise<void> {
    this.#q.removeConsumer(this);
    const abort = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.#running]),
      sleep(this.#ctx.cancelTimeoutMs, abort.signal),
    ]);
    abort.abort();
    for (const [delivery, entry] of [...this.#unsettled]) {
      this.#unsettled.delete(delivery);
      this.#apply(entry, 'requeue');
    }
    this.#q.wake();
    this.#ctx.onCancelled(this);
  }

  #settle(delivery: BusDelivery, s: Settlement): void {
    const entry = this.#unsettled.get(delivery);
    // Settled after its subscription gave it back: the queue already has it again, like an ack on a
    // closed AMQP channel.
    if (!entry) return;
    this.#unsettled.delete(delivery);
    this.#apply(entry, s);
    this.#q.wake();
  }

  #apply(entry: QueueEntry, s: Settlement): void {
    const outcome = this.#q.settle(entry, s);
    if (outcome !== 'dead-letter') return;
    this.#ctx.events.emit('bus:dead-lettered', {
      queue: this.queue,
      id: entry.message.id,
      deliveryCount: entry.deliveries,
      reason: s === 'requeue' ? 'delivery-limit' : 'rejected',
    });
  }
}
