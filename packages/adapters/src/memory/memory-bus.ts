/**
 * `MemoryBus`: the MessageBus held in this process, with RabbitMQ's semantics (topic routing,
 * competing consumers, prefetch, requeue counted toward a delivery limit, dead-letter queues,
 * bounded queues). The same conformance suite runs against it and against `AmqpBus`.
 *
 * @module
 */
import {
  type BusCapabilities,
  type BusTopology,
  ClosedError,
  DEFAULT_MAX_MESSAGE_BYTES,
  type DeliveryHandler,
  deadLetterQueueName,
  type Logger,
  type MessageBus,
  NotFoundError,
  noopLogger,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
} from '@ctlplane/core';
import {
  BusEmitter,
  parseOrThrow,
  prepareMessage,
  prepareMessages,
  queueForSubscribe,
  type ResolvedQueue,
  type ResolvedTopology,
  resolveTopology,
  subscribeOptionsSchema,
} from '@ctlplane/core/driver';
import { z } from 'zod';
import { MemoryBroker } from './memory-bus-broker.js';
import { MemorySubscription } from './memory-bus-consumer.js';

export { MemoryBroker, type MemoryQueueStats } from './memory-bus-broker.js';

const optionsSchema = z
  .object({
    prefetch: z.number().int().min(1).max(10_000).default(32),
    maxMessageBytes: z
      .number()
      .int()
      .min(1)
      .max(128 * 1024 * 1024)
      .default(DEFAULT_MAX_MESSAGE_BYTES),
    cancelTimeoutMs: z.number().int().min(0).max(3_600_000).default(30_000),
  })
  .strict();

/** Options of {@link MemoryBus}. */
export interface MemoryBusOptions {
  /** The broker to use (default: a new one). Share it between buses to model several processes. */
  broker?: MemoryBroker;
  /** Exchange and queues to declare at construction. */
  topology?: BusTopology;
  /** Default prefetch of a subscription (default 32). */
  prefetch?: number;
  /** Largest message body, as JSON bytes (default `DEFAULT_MAX_MESSAGE_BYTES`, 1 MiB); larger is a ValidationError. */
  maxMessageBytes?: number;
  /** How long cancel and close wait for handlers in flight (default 30,000 ms). */
  cancelTimeoutMs?: number;
  /** Logger (default: no-op). */
  logger?: Logger;
}

/**
 * A MessageBus in this process's memory: the embedded default. Not durable: messages live as
 * long as the {@link MemoryBroker}.
 *
 * @example
 * ```ts
 * import { MemoryBus } from '@ctlplane/adapters/memory';
 *
 * const bus = new MemoryBus({ topology: { queues: [{ name: 'audit', bindings: ['evt.#'] }] } });
 * await bus.subscribe({ queue: 'audit' }, (d) => console.log(d.message.routingKey));
 * await bus.publish({ routingKey: 'evt.nyc1._.droplet%2Ecreate', body: { id: 1 } });
 * ```
 */
export class MemoryBus extends BusEmitter implements MessageBus {
  /** Backend name. */
  readonly name = 'memory';
  /** Single-process and not durable. */
  readonly capabilities: BusCapabilities = Object.freeze({ multiProcess: false, durable: false });
  /** Largest message body, in bytes (option `maxMessageBytes`). */
  readonly maxMessageBytes: number;
  /** The broker holding the queues. */
  readonly broker: MemoryBroker;
  readonly #topology: ResolvedTopology;
  readonly #declared = new Map<string, ResolvedQueue>();
  readonly #opts: z.output<typeof optionsSchema>;
  readonly #log: Logger;
  readonly #subs = new Set<MemorySubscription>();
  #closing: Promise<void> | null = null;

  /**
   * @param options - broker, topology and limits; validated here
   * @throws ValidationError for bad options; ConflictError when a queue exists with other settings
   */
  constructor(options: MemoryBusOptions = {}) {
    const { broker, topology, logger, ...rest } = options;
    const log = (logger ?? noopLogger).child('bus:memory');
    super(log);
    this.#log = log;
    this.#opts = Object.freeze(parseOrThrow(optionsSchema, rest, 'MemoryBus options'));
    this.maxMessageBytes = this.#opts.maxMessageBytes;
    this.broker = broker ?? new MemoryBroker();
    this.#topology = resolveTopology(topology);
    for (const q of this.#topology.queues) this.#declare(q);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** The topology with defaults applied. */
  get topology(): ResolvedTopology {
    return this.#topology;
  }

  /** Resolves at once (there is nothing to connect to). */
  async ready(): Promise<void> {
    this.#open();
  }

  /** Publish one message; routed synchronously, so "confirmed" when this resolves. */
  async publish(message: OutgoingMessage): Promise<void> {
    this.#open();
    const m = prepareMessage(message, this.#opts.maxMessageBytes);
    this.broker.route(this.#topology.exchange, m);
    this.emit('bus:published', { count: 1 });
  }

  /** Publish many messages in order; rejects with the first failure after trying all. */
  async publishMany(messages: readonly OutgoingMessage[]): Promise<void> {
    this.#open();
    const prepared = prepareMessages(messages, this.#opts.maxMessageBytes);
    let failure: unknown = null;
    let count = 0;
    for (const m of prepared) {
      try {
        this.broker.route(this.#topology.exchange, m);
        count++;
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== null) throw failure;
    this.emit('bus:published', { count });
  }

  /** Consume a queue (declared with defaults unless the topology declares it). */
  async subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription> {
    this.#open();
    const o = parseOrThrow(subscribeOptionsSchema, options, 'subscribe options');
    const config = queueForSubscribe(this.#declared.get(o.queue), o);
    this.#declare(config);
    const name = o.deadLetters ? config.deadLetterQueue : config.name;
    const q = name === null ? undefined : this.broker.queue(name);
    if (!q)
      throw new NotFoundError(`queue ${deadLetterQueueName(o.queue)} does not exist (deadLetter is off)`);
    const sub = new MemorySubscription(q, handler, {
      events: this,
      prefetch: o.prefetch ?? this.#opts.prefetch,
      autoAck: o.autoAck,
      cancelTimeoutMs: this.#opts.cancelTimeoutMs,
      onCancelled: (s) => this.#subs.delete(s),
    });
    this.#subs.add(sub);
    this.#log.debug('subscribed', { queue: q.config.name });
    return sub;
  }

  /** Delete a queue and its dead-letter queue. */
  async deleteQueue(queue: string): Promise<void> {
    this.#open();
    const dlq = deadLetterQueueName(queue);
    await Promise.all(
      [...this.#subs].filter((s) => s.queue === queue || s.queue === dlq).map((s) => s.cancel()),
    );
    this.broker.deleteQueue(queue);
    this.broker.deleteQueue(dlq);
    this.#declared.delete(queue);
  }

  /** Cancel every subscription (handlers in flight finish) and refuse further calls. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#subs].map((s) => s.cancel()));
      this.emit('bus:closed', {});
    })();
    return this.#closing;
  }

  #declare(q: ResolvedQueue): void {
    this.broker.declareQueue(this.#topology.exchange, q);
    this.#declared.set(q.name, q);
  }

  #open(): void {
    if (this.#closing) throw new ClosedError('MemoryBus');
  }
}
