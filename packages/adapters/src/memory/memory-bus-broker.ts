/**
 * The in-memory broker behind {@link MemoryBus}: topic exchanges, queues and dead-letter queues.
 * Share one broker between several buses to model several processes on one RabbitMQ.
 *
 * @module
 */
import { BusyError, ConflictError } from '@ctlplane/core';
import { compileTopic, type PreparedMessage, type ResolvedQueue } from '@ctlplane/core/driver';
import { type DeadLetterReason, MemoryQueue, type QueueEntry } from './memory-bus-queue.js';

type Matcher = (routingKey: string) => boolean;

/** Depth of one queue, for tests and dashboards. */
export interface MemoryQueueStats {
  /** Messages waiting for a consumer. */
  readonly ready: number;
  /** Messages delivered and not settled yet. */
  readonly unacked: number;
}

/**
 * Exchanges, queues and bindings held in this process. Queues outlive the buses that declared
 * them, the way durable queues outlive connections, until {@link MemoryBroker.deleteQueue}.
 *
 * @example
 * ```ts
 * const broker = new MemoryBroker();
 * const publisher = new MemoryBus({ broker });
 * const consumer = new MemoryBus({ broker });
 * ```
 */
export class MemoryBroker {
  readonly #queues = new Map<string, MemoryQueue>();
  /** exchange → queue → pattern → matcher */
  readonly #bindings = new Map<string, Map<string, Map<string, Matcher>>>();

  /**
   * @internal Declare a queue (and its dead-letter queue) and add its bindings on `exchange`.
   * @throws ConflictError when the queue exists with other settings
   */
  declareQueue(exchange: string, config: ResolvedQueue): MemoryQueue {
    let q = this.#queues.get(config.name);
    if (q) {
      const a = q.config;
      if (
        a.deliveryLimit !== config.deliveryLimit ||
        a.maxLength !== config.maxLength ||
        a.overflow !== config.overflow ||
        a.deadLetterQueue !== config.deadLetterQueue ||
        a.expiresMs !== config.expiresMs
      ) {
        throw new ConflictError(`queue ${config.name} already exists with other settings`, {
          queue: config.name,
        });
      }
    } else {
      const expire = (): void => {
        if (this.#queues.get(config.name) === q) this.deleteQueue(config.name);
      };
      q = new MemoryQueue(config, (entry, reason) => this.#deadLetter(config, entry, reason), expire);
      this.#queues.set(config.name, q);
    }
    q.touch();
    if (config.deadLetterQueue && !this.#queues.has(config.deadLetterQueue)) {
      const dlq: ResolvedQueue = {
        name: config.deadLetterQueue,
        bindings: [],
        deliveryLimit: Number.POSITIVE_INFINITY,
        maxLength: config.maxLength,
        overflow: 'drop-head',
        deadLetterQueue: null,
        expiresMs: null,
      };
      this.#queues.set(
        dlq.name,
        new MemoryQueue(
          dlq,
          () => {},
          () => {},
        ),
      );
    }
    const byQueue = this.#bindings.get(exchange) ?? new Map<string, Map<string, Matcher>>();
    this.#bindings.set(exchange, byQueue);
    const patterns = byQueue.get(config.name) ?? new Map<string, Matcher>();
    byQueue.set(config.name, patterns);
    for (const p of config.bindings) if (!patterns.has(p)) patterns.set(p, compileTopic(p));
    return q;
  }

  /** @internal The queue of this name, if declared. */
  queue(name: string): MemoryQueue | undefined {
    return this.#queues.get(name);
  }

  /**
   * @internal Route one message to every queue bound to a matching pattern. All or nothing: when
   * a matching queue is full (`reject-publish`), no queue gets it.
   * @throws BusyError naming the full queue
   */
  route(exchange: string, message: PreparedMessage): void {
    const targets: MemoryQueue[] = [];
    for (const [name, patterns] of this.#bindings.get(exchange) ?? []) {
      for (const match of patterns.values()) {
        if (!match(message.routingKey)) continue;
        const q = this.#queues.get(name);
        if (q) targets.push(q);
        break;
      }
    }
    const full = targets.find((q) => q.full);
    if (full) throw new BusyError(`queue ${full.config.name} is full (${full.config.maxLength})`, 1_000);
    for (const q of targets) q.enqueue(message);
  }

  /** Messages ready and unacked in a queue, or null when there is no such queue. */
  stats(queue: string): MemoryQueueStats | null {
    const q = this.#queues.get(queue);
    return q ? { ready: q.depth, unacked: q.unacked } : null;
  }

  /** Delete a queue and its bindings; its messages are gone. Returns whether it existed. */
  deleteQueue(name: string): boolean {
    const q = this.#queues.get(name);
    if (!q) return false;
    q.delete();
    this.#queues.delete(name);
    for (const byQueue of this.#bindings.values()) byQueue.delete(name);
    return true;
  }

  #deadLetter(config: ResolvedQueue, entry: QueueEntry, _reason: DeadLetterReason): void {
    if (!config.deadLetterQueue) return;
    this.#queues.get(config.deadLetterQueue)?.enqueue(entry.message);
  }
}
