/**
 * `AmqpBus`: the MessageBus on RabbitMQ (amqplib). Durable quorum queues, pipelined publisher
 * confirms, acks with prefetch, a delivery limit enforced by the broker, dead-letter queues, and
 * automatic reconnect that declares the topology again and re-subscribes.
 *
 * @module
 */
import {
  type BusCapabilities,
  ClosedError,
  type DeliveryHandler,
  deadLetterQueueName,
  type Logger,
  type MessageBus,
  NotFoundError,
  noopLogger,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
  UnavailableError,
} from '@ctlplane/core';
import {
  BusEmitter,
  backoffDelay,
  parseOrThrow,
  prepareMessage,
  prepareMessages,
  queueForSubscribe,
  type ResolvedQueue,
  type ResolvedTopology,
  resolveTopology,
  subscribeOptionsSchema,
} from '@ctlplane/core/driver';
import type { ChannelModel } from 'amqplib';
import { AmqpConnectionManager } from './amqp-connection.js';
import { AmqpSubscription } from './amqp-consumer.js';
import { ReadyGate } from './amqp-deferred.js';
import { errorMessage, isPermanent, mapConnectError } from './amqp-errors.js';
import { type AmqpBusOptions, amqpOptionsSchema, type ResolvedAmqpOptions } from './amqp-options.js';
import { AmqpPublisher } from './amqp-publisher.js';
import { openPublisherChannel } from './amqp-publisher-channel.js';
import { declareOnOwnChannel, deleteOnOwnChannel } from './amqp-topology.js';

/**
 * A MessageBus on RabbitMQ. Connects in the background at construction; publishes made before the
 * first connection (or during an outage) wait in a bounded buffer.
 *
 * @example
 * ```ts
 * import { AmqpBus } from '@ctlplane/adapters/amqp';
 * import { regionPattern } from '@ctlplane/core';
 *
 * const bus = new AmqpBus({
 *   urls: ['amqp://guest:guest@127.0.0.1:5672'],
 *   topology: { exchange: 'ctlplane.events', queues: [{ name: 'router.nyc1', bindings: [regionPattern('nyc1')] }] },
 * });
 * await bus.ready();
 * await bus.subscribe({ queue: 'router.nyc1' }, async (d) => console.log(d.message.id));
 * await bus.close();
 * ```
 */
export class AmqpBus extends BusEmitter implements MessageBus {
  /** Backend name. */
  readonly name = 'amqp';
  /** Shared by many processes; queues survive broker restarts. */
  readonly capabilities: BusCapabilities = Object.freeze({ multiProcess: true, durable: true });
  /** Largest message body, in bytes (option `maxMessageBytes`). */
  readonly maxMessageBytes: number;
  readonly #opts: ResolvedAmqpOptions;
  readonly #log: Logger;
  readonly #topology: ResolvedTopology;
  readonly #declared = new Map<string, ResolvedQueue>();
  readonly #subs = new Set<AmqpSubscription>();
  readonly #publisher: AmqpPublisher;
  readonly #manager: AmqpConnectionManager;
  readonly #ready = new ReadyGate();
  #closing: Promise<void> | null = null;

  /**
   * @param options - broker URLs, topology and limits; validated here
   * @throws ValidationError for bad options (URLs are never echoed)
   */
  constructor(options: AmqpBusOptions) {
    const { topology, logger, ...rest } = options;
    const log = (logger ?? noopLogger).child('bus:amqp');
    super(log);
    this.#log = log;
    this.#opts = Object.freeze(parseOrThrow(amqpOptionsSchema, rest, 'AmqpBus options'));
    this.maxMessageBytes = this.#opts.maxMessageBytes;
    this.#topology = resolveTopology(topology);
    for (const q of this.#topology.queues) this.#declared.set(q.name, q);
    this.#publisher = new AmqpPublisher(this.#topology.exchange, this.#opts, this.#log, (count) =>
      this.emit('bus:republished', { count }),
    );
    this.#manager = new AmqpConnectionManager(this.#opts, this.#hooks(), this.#log);
    this.#manager.start();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** The topology with defaults applied. */
  get topology(): ResolvedTopology {
    return this.#topology;
  }

  /** True while connected to a broker. */
  get connected(): boolean {
    return this.#manager.model !== null;
  }

  /** Publishes accepted and not yet confirmed (waiting or in flight). */
  get pendingPublishes(): number {
    return this.#publisher.pending;
  }

  /**
   * Resolves once connected with the topology declared (at once when connected before). Rejects:
   * - at once, with the error of a first connection that can never work: `UnauthorizedError` for
   *   refused credentials or an unknown (or forbidden) virtual host, `ConflictError` for a queue
   *   declared with other arguments;
   * - with a transient `UnavailableError` naming the last failure when no broker could be reached
   *   within `readyTimeoutMs` (default 30,000) of the call: a closed port, an unknown host. The bus
   *   keeps reconnecting in the background; call `ready()` again to wait again;
   * - with `ClosedError` once `close()` was called.
   */
  ready(): Promise<void> {
    if (this.#closing) return Promise.reject(new ClosedError('AmqpBus'));
    return this.#ready.wait(this.#opts.readyTimeoutMs);
  }

  /** Publish one message; resolves on the broker's confirm. */
  async publish(message: OutgoingMessage): Promise<void> {
    this.#open();
    await this.#publisher.enqueue([prepareMessage(message, this.#opts.maxMessageBytes)]);
    this.emit('bus:published', { count: 1 });
  }

  /** Publish many messages pipelined, in order; rejects with the first failure once all settled. */
  async publishMany(messages: readonly OutgoingMessage[]): Promise<void> {
    this.#open();
    const prepared = prepareMessages(messages, this.#opts.maxMessageBytes);
    if (prepared.length === 0) return;
    await this.#publisher.enqueue(prepared);
    this.emit('bus:published', { count: prepared.length });
  }

  /** Consume a queue on its own channel; re-subscribed after every reconnect. */
  async subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    this.#open();
    const o = parseOrThrow(subscribeOptionsSchema, options, 'subscribe options');
    const config = queueForSubscribe(this.#declared.get(o.queue), o);
    if (o.deadLetters && !config.deadLetterQueue) {
      throw new NotFoundError(`queue ${o.queue} has no dead-letter queue (deadLetter is off)`);
    }
    await this.ready();
    this.#open();
    const sub = new AmqpSubscription(config, handler, {
      topology: this.#topology,
      queueType: this.#opts.queueType,
      events: this,
      log: this.#log,
      prefetch: o.prefetch ?? this.#opts.prefetch,
      autoAck: o.autoAck,
      deadLetters: o.deadLetters,
      cancelTimeoutMs: this.#opts.cancelTimeoutMs,
      retryDelay: (attempt) => backoffDelay(attempt, this.#opts.reconnect),
      currentModel: () => this.#manager.model,
      onCancelled: (s) => this.#subs.delete(s),
    });
    this.#subs.add(sub);
    const model = this.#manager.model;
    if (model) {
      try {
        await sub.attach(model);
      } catch (err) {
        if (isPermanent(err)) {
          this.#subs.delete(sub);
          throw err;
        }
        this.#log.warn('subscribe will complete after reconnect', {
          queue: sub.queue,
          error: errorMessage(err),
        });
        void sub.retry(model);
      }
    }
    this.#declared.set(config.name, config);
    return sub;
  }

  /** Delete a queue and its dead-letter queue (cancelling this bus's subscriptions to them). */
  async deleteQueue(queue: string): Promise<void> {
    this.#open();
    await this.ready();
    const dlq = deadLetterQueueName(queue);
    await Promise.all(
      [...this.#subs].filter((s) => s.queue === queue || s.queue === dlq).map((s) => s.cancel()),
    );
    this.#declared.delete(queue);
    const model = this.#manager.model;
    if (!model) throw new UnavailableError('AmqpBus is not connected', { transient: true });
    await deleteOnOwnChannel(model, [queue, dlq], this.#log);
  }

  /**
   * Close gracefully (see {@link MessageBus.close}). Idempotent. Publishes already accepted get
   * `closeTimeoutMs` to be confirmed, unless the bus never connected (then none can be, and they
   * fail at once with ClosedError), so closing a bus whose first connection failed is immediate.
   * Once it resolves the bus holds no socket and no timer: the process may exit.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready.close(new ClosedError('AmqpBus'));
      await Promise.all([
        Promise.allSettled([...this.#subs].map((s) => s.cancel())),
        this.#publisher.close(this.#ready.everConnected ? this.#opts.closeTimeoutMs : 0),
      ]);
      await this.#manager.close();
      this.emit('bus:closed', {});
    })();
    return this.#closing;
  }

  #open(): void {
    if (this.#closing) throw new ClosedError('AmqpBus');
  }

  #hooks(): ConstructorParameters<typeof AmqpConnectionManager>[1] {
    return {
      setup: (model) => this.#setup(model),
      failed: (error, url) => {
        this.#log.warn('connect failed', { error: error.message });
        const mapped = mapConnectError(error.cause ?? error, url);
        this.#ready.attemptFailed(mapped, isPermanent(mapped));
      },
      connected: (url) => {
        this.#ready.open();
        this.#log.info('connected', { url });
        this.emit('bus:connected', { url });
      },
      disconnected: (url, error) => {
        this.#log.warn('disconnected', { url, error: error?.message ?? null });
        this.emit('bus:disconnected', { url, error });
      },
      reconnecting: (attempt, delayMs, error) => this.emit('bus:reconnecting', { attempt, delayMs, error }),
      blocked: (reason) =>
        reason === null ? this.emit('bus:unblocked', {}) : this.emit('bus:blocked', { reason }),
    };
  }

  /** On every new connection: topology, publisher channel, subscriptions. */
  async #setup(model: ChannelModel): Promise<void> {
    await this.#declareAll(model);
    await openPublisherChannel(model, this.#publisher, {
      log: this.#log,
      isCurrent: (m) => this.#manager.model === m && !this.#closing,
      redeclare: (m) => this.#declareAll(m),
      retryDelay: (attempt) => backoffDelay(attempt, this.#opts.reconnect),
    });
    await Promise.all(
      [...this.#subs].map((s) =>
        s.attach(model).catch((err: unknown) => {
          this.#log.warn('re-subscribe failed; retrying', { queue: s.queue, error: errorMessage(err) });
          void s.retry(model);
        }),
      ),
    );
  }

  #declareAll(model: ChannelModel): Promise<void> {
    return declareOnOwnChannel(
      model,
      this.#topology,
      this.#declared.values(),
      this.#opts.queueType,
      this.#log,
    );
  }
}
