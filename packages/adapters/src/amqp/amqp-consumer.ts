/**
 * One subscription of {@link AmqpBus}: its own channel with prefetch, manual acks, and failures
 * sent back with `basic.reject` (requeue), which quorum queues count toward `x-delivery-limit`.
 * It attaches again to every new connection, and on its own when only its channel broke.
 *
 * @module
 */
import {
  type DeliveryHandler,
  deadLetterQueueName,
  type Logger,
  type Subscription,
  sleep,
} from '@ctlplane/core';
import {
  BusDelivery,
  type BusEmitter,
  type ResolvedQueue,
  type ResolvedTopology,
  runHandler,
  type Settlement,
} from '@ctlplane/core/driver';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { decodeMessage } from './amqp-codec.js';
import { guard } from './amqp-connection.js';
import { errorMessage, mapAmqpError } from './amqp-errors.js';
import type { AmqpQueueType } from './amqp-options.js';
import { declareQueue } from './amqp-topology.js';

/** @internal What a subscription needs from its bus. */
export interface AmqpSubscriptionContext {
  /** The topology (exchanges). */
  topology: ResolvedTopology;
  /** Queue type to declare. */
  queueType: AmqpQueueType;
  /** The bus, to emit its events on. */
  events: BusEmitter;
  /** Logger. */
  log: Logger;
  /** Most unsettled deliveries. */
  prefetch: number;
  /** Ack when the handler returns without settling. */
  autoAck: boolean;
  /** Consume the dead-letter queue instead. */
  deadLetters: boolean;
  /** How long cancel waits for handlers. */
  cancelTimeoutMs: number;
  /** Delay before re-attaching after a lone channel failure. */
  retryDelay(attempt: number): number;
  /** The bus's current connection. */
  currentModel(): ChannelModel | null;
  /** Called once cancelled. */
  onCancelled(sub: AmqpSubscription): void;
}

/** @internal */
export class AmqpSubscription implements Subscription {
  /** The queue consumed (the dead-letter queue with `deadLetters`). */
  readonly queue: string;
  readonly #config: ResolvedQueue;
  readonly #handler: DeliveryHandler;
  readonly #ctx: AmqpSubscriptionContext;
  readonly #running = new Set<Promise<void>>();
  #ch: Channel | null = null;
  #model: ChannelModel | null = null;
  #attaching: { model: ChannelModel; promise: Promise<void> } | null = null;
  #tag: string | null = null;
  #retries = 0;
  #cancelling: Promise<void> | null = null;
  readonly #abort = new AbortController();

  /** @param config - the queue to declare (the main queue, also with `deadLetters`) */
  constructor(config: ResolvedQueue, handler: DeliveryHandler, ctx: AmqpSubscriptionContext) {
    this.#config = config;
    this.queue = ctx.deadLetters ? config.deadLetterQueue! : config.name;
    this.#handler = handler;
    this.#ctx = ctx;
  }

  /** True once cancel was called. */
  get cancelled(): boolean {
    return this.#cancelling !== null;
  }

  /**
   * Consume on `model` unless already consuming (or attaching) there.
   * @throws the mapped error (ConflictError when the queue exists with other arguments)
   */
  attach(model: ChannelModel): Promise<void> {
    if (this.cancelled || (this.#ch !== null && this.#model === model)) return Promise.resolve();
    if (this.#attaching?.model !== model) {
      const promise = this.#attach(model).finally(() => {
        if (this.#attaching?.promise === promise) this.#attaching = null;
      });
      this.#attaching = { model, promise };
    }
    return this.#attaching!.promise;
  }

  /** Try attaching again after a backoff, for as long as `model` is the bus's connection. */
  async retry(model: ChannelModel): Promise<void> {
    await sleep(this.#ctx.retryDelay(this.#retries++), this.#abort.signal);
    if (this.cancelled || this.#ch !== null || this.#ctx.currentModel() !== model) return;
    try {
      await this.attach(model);
      this.#ctx.log.info('consumer attached', { queue: this.queue });
    } catch (err) {
      this.#ctx.log.warn('consumer attach failed', { queue: this.queue, error: errorMessage(err) });
      if (this.#ch === null) void this.retry(model);
    }
  }

  async #attach(model: ChannelModel): Promise<void> {
    const ch = await model.createChannel().catch((err: unknown) => {
      throw mapAmqpError(err, `subscribe to ${this.queue}`);
    });
    const log = this.#ctx.log;
    ch.on(
      'error',
      guard(log, 'channel error', (err: Error) =>
        log.warn('consumer channel error', { queue: this.queue, error: errorMessage(err) }),
      ),
    );
    ch.on(
      'close',
      guard(log, 'channel close', () => this.#closed(ch, model)),
    );
    try {
      await declareQueue(ch, this.#ctx.topology, this.#config, this.#ctx.queueType);
      await ch.prefetch(this.#ctx.prefetch);
      const { consumerTag } = await ch.consume(this.queue, (m) => this.#receive(ch, m), { noAck: false });
      this.#ch = ch;
      this.#model = model;
      this.#tag = consumerTag;
      this.#retries = 0;
      if (this.cancelled) await ch.close().catch(() => {});
    } catch (err) {
      await ch.close().catch(() => {});
      throw mapAmqpError(err, `subscribe to ${this.queue}`);
    }
  }

  /** Stop consuming; handlers in flight finish, unsettled deliveries return to the queue. */
  cancel(): Promise<void> {
    this.#cancelling ??= (async () => {
      this.#abort.abort();
      const ch = this.#ch;
      if (ch && this.#tag) await ch.cancel(this.#tag).catch(() => {});
      const wait = new AbortController();
      await Promise.race([
        Promise.allSettled([...this.#running]),
        sleep(this.#ctx.cancelTimeoutMs, wait.signal),
      ]);
      wait.abort();
      this.#ch = null;
      if (ch) await ch.close().catch(() => {});
      this.#ctx.onCancelled(this);
    })();
    return this.#cancelling;
  }

  /** The channel broke. Re-attach on our own unless the whole connection went (setup re-attaches). */
  #closed(ch: Channel, model: ChannelModel): void {
    if (this.#ch !== ch) return;
    this.#ch = null;
    this.#tag = null;
    if (this.cancelled) return;
    void this.retry(model);
  }

  #receive(ch: Channel, raw: ConsumeMessage | null): void {
    if (raw === null) {
      // The broker cancelled the consumer (queue deleted): drop the channel and attach again.
      this.#ctx.log.warn('consumer cancelled by the broker', { queue: this.queue });
      void ch.close().catch(() => {});
      return;
    }
    let delivery: BusDelivery;
    try {
      const message = decodeMessage(raw, this.#ctx.queueType === 'quorum');
      delivery = new BusDelivery(message, this.queue, (s) => this.#settle(ch, raw, delivery, s));
    } catch (err) {
      this.#ctx.log.warn('malformed message dead-lettered', { queue: this.queue, error: errorMessage(err) });
      if (hasMalformedXDeath(raw)) {
        // RabbitMQ 3.10 crashes the queue process when it dead-letters a message whose x-death
        // header is not a list of tables, losing it. Move such a message ourselves, headers cleaned.
        const { 'x-death': _dropped, ...headers } = raw.properties.headers ?? {};
        this.#safely(() => {
          ch.sendToQueue(deadLetterQueueName(this.queue), raw.content, {
            ...raw.properties,
            headers,
            persistent: true,
          });
          ch.ack(raw);
        });
      } else {
        this.#safely(() => ch.reject(raw, false));
      }
      const id = String(raw.properties.messageId ?? '');
      this.#ctx.events.emit('bus:dead-lettered', {
        queue: this.queue,
        id,
        deliveryCount: 1,
        reason: 'malformed',
      });
      return;
    }
    const m = delivery.message;
    if (m.redelivered)
      this.#ctx.events.emit('bus:redelivered', {
        queue: this.queue,
        id: m.id,
        deliveryCount: m.deliveryCount,
      });
    const run = runHandler(delivery, this.#handler, this.#ctx.autoAck, (error) =>
      this.#ctx.events.emit('bus:handler:failed', {
        queue: this.queue,
        id: m.id,
        deliveryCount: m.deliveryCount,
        error,
      }),
    );
    this.#running.add(run);
    // One `then` (a `finally` makes two promises); it rejects only if onError or nack threw.
    const forget = (): void => void this.#running.delete(run);
    void run.then(forget, forget);
  }

  #settle(ch: Channel, raw: ConsumeMessage, d: BusDelivery, s: Settlement): void {
    const m = d.message;
    // Classic queues report at most a second delivery, so their limit is at most 2.
    const classic = this.#ctx.queueType === 'classic';
    const limit = this.#ctx.deadLetters
      ? Number.POSITIVE_INFINITY
      : Math.min(this.#config.deliveryLimit, classic ? 2 : Number.POSITIVE_INFINITY);
    const lastTry = s === 'requeue' && m.deliveryCount >= limit;
    // Quorum queues count the requeue and dead-letter at the limit themselves; classic queues
    // cannot count, so the last try is dead-lettered here.
    const requeue = s === 'requeue' && !(lastTry && classic);
    const ok = this.#safely(() => (s === 'ack' ? ch.ack(raw) : ch.reject(raw, requeue)));
    if (!ok || (s !== 'dead-letter' && !lastTry)) return;
    this.#ctx.events.emit('bus:dead-lettered', {
      queue: this.queue,
      id: m.id,
      deliveryCount: m.deliveryCount,
      reason: lastTry ? 'delivery-limit' : 'rejected',
    });
  }

  /** Run a channel call; false when the channel is already gone (the broker redelivers). */
  #safely(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      this.#ctx.log.debug('settle on a closed channel ignored; the broker will redeliver', {
        queue: this.queue,
        error: errorMessage(err),
      });
      return false;
    }
  }
}

/** True when a message carries an `x-death` header the broker cannot dead-letter safely. */
function hasMalformedXDeath(raw: ConsumeMessage): boolean {
  const xDeath: unknown = raw.properties.headers?.['x-death'];
  if (xDeath === undefined) return false;
  return (
    !Array.isArray(xDeath) || xDeath.some((d) => typeof d !== 'object' || d === null || Array.isArray(d))
  );
}
