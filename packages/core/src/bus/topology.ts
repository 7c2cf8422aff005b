/**
 * Bus topology from config: one topic exchange, durable queues with bindings, a delivery limit
 * and a dead-letter queue per queue. Backend-agnostic; each adapter declares it its own way.
 *
 * @module
 */
import { z } from 'zod';
import { ConflictError } from '../errors.js';
import { parseOrThrow } from '../validation.js';
import { busNameSchema, patternSchema } from './schemas.js';

/** Suffix of the dead-letter queue of a queue. */
export const DEAD_LETTER_SUFFIX = '.dead-letter';

/** The dead-letter queue of `queue`: `<queue>.dead-letter`. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}${DEAD_LETTER_SUFFIX}`;
}

/** What happens when a queue holds `maxLength` messages and another arrives. */
export type QueueOverflow = 'reject-publish' | 'drop-head';

/** One queue of the topology. */
export interface BusQueueConfig {
  /** Queue name (not starting with `amq.`). */
  name: string;
  /** Topic patterns bound on the bus exchange. */
  bindings?: readonly string[];
  /** Deliveries of one message before it is dead-lettered (default 5, 1 to 1,000). */
  deliveryLimit?: number;
  /** Most messages held (default 1,000,000). */
  maxLength?: number;
  /**
   * At `maxLength`: `reject-publish` (default) fails the publish with a BusyError (nothing is
   * dropped); `drop-head` dead-letters the oldest message to make room.
   */
  overflow?: QueueOverflow;
  /**
   * Declare `<name>.dead-letter` and send dead letters there (default true, false for an expiring
   * queue); else dead letters are dropped.
   */
  deadLetter?: boolean;
  /**
   * Delete the queue, messages included, once it has had no consumer for this long (RabbitMQ
   * `x-expires`; at least 1,000 ms): for per-process queues that must not outlive a crashed
   * consumer and fill up. An expiring queue has no dead-letter queue. Default: never.
   */
  expiresMs?: number;
}

/** The topology a bus declares on start (and again after every reconnect). */
export interface BusTopology {
  /** The topic exchange every message is published to (default `ctlplane.events`). */
  exchange?: string;
  /** The direct exchange dead letters go through (default `<exchange>.dead-letter`). */
  deadLetterExchange?: string;
  /** Queues to declare up front; subscribe declares the others on first use. */
  queues?: readonly BusQueueConfig[];
}

/** A queue with every default applied. */
export interface ResolvedQueue {
  /** Queue name. */
  readonly name: string;
  /** Topic patterns bound on the bus exchange. */
  readonly bindings: readonly string[];
  /** Deliveries before dead-lettering. */
  readonly deliveryLimit: number;
  /** Most messages held. */
  readonly maxLength: number;
  /** What happens at `maxLength`. */
  readonly overflow: QueueOverflow;
  /** The dead-letter queue, or null when dead letters are dropped. */
  readonly deadLetterQueue: string | null;
  /** Idle time after which the queue is deleted, or null for never. */
  readonly expiresMs: number | null;
}

/** A topology with every default applied. */
export interface ResolvedTopology {
  /** The topic exchange. */
  readonly exchange: string;
  /** The dead-letter exchange. */
  readonly deadLetterExchange: string;
  /** The queues declared up front. */
  readonly queues: readonly ResolvedQueue[];
}

/** @internal */
export const queueConfigSchema = z
  .object({
    name: busNameSchema,
    bindings: z.array(patternSchema).max(1_000).readonly().default([]),
    deliveryLimit: z.number().int().min(1).max(1_000).default(5),
    maxLength: z.number().int().min(1).max(100_000_000).default(1_000_000),
    overflow: z.enum(['reject-publish', 'drop-head']).default('reject-publish'),
    deadLetter: z.boolean().optional(),
    expiresMs: z
      .number()
      .int()
      .min(1_000)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .strict()
  .refine((q) => !(q.deadLetter === true && q.expiresMs !== undefined), {
    message: 'an expiring queue has no dead-letter queue (it would expire on its own)',
    path: ['deadLetter'],
  });

const topologySchema = z
  .object({
    exchange: busNameSchema.default('ctlplane.events'),
    deadLetterExchange: busNameSchema.optional(),
    queues: z.array(queueConfigSchema).max(10_000).default([]),
  })
  .strict();

/** @internal Apply defaults to one queue config. */
export function resolveQueue(config: z.output<typeof queueConfigSchema>): ResolvedQueue {
  const { deadLetter, expiresMs, ...rest } = config;
  return Object.freeze({
    ...rest,
    expiresMs: expiresMs ?? null,
    bindings: Object.freeze([...new Set(rest.bindings)]),
    deadLetterQueue: (deadLetter ?? expiresMs === undefined) ? deadLetterQueueName(config.name) : null,
  });
}

/**
 * Validate a topology and apply its defaults.
 *
 * @throws ValidationError naming the bad field; ConflictError for a queue listed twice
 */
export function resolveTopology(topology: BusTopology = {}): ResolvedTopology {
  const t = parseOrThrow(topologySchema, topology, 'bus topology');
  const seen = new Set<string>();
  for (const q of t.queues) {
    if (seen.has(q.name)) throw new ConflictError(`bus topology: queue ${q.name} is listed twice`);
    seen.add(q.name);
  }
  return Object.freeze({
    exchange: t.exchange,
    deadLetterExchange: t.deadLetterExchange ?? `${t.exchange}${DEAD_LETTER_SUFFIX}`,
    queues: Object.freeze(t.queues.map(resolveQueue)),
  });
}

/**
 * The queue a subscribe needs: the topology's entry (with the subscribe's bindings added) or a new
 * one with defaults. A different delivery limit or expiry than declared is a `ConflictError`.
 */
export function queueForSubscribe(
  declared: ResolvedQueue | undefined,
  sub: {
    queue: string;
    bindings: readonly string[];
    deliveryLimit?: number | undefined;
    expiresMs?: number | undefined;
  },
): ResolvedQueue {
  if (!declared) {
    const { queue, bindings, deliveryLimit, expiresMs } = sub;
    return resolveQueue(
      parseOrThrow(
        queueConfigSchema,
        { name: queue, bindings, deliveryLimit, expiresMs },
        'subscribe options',
      ),
    );
  }
  if (sub.expiresMs !== undefined && sub.expiresMs !== declared.expiresMs) {
    throw new ConflictError(
      `queue ${sub.queue} is declared with expiresMs ${declared.expiresMs}, not ${sub.expiresMs}`,
      {
        queue: sub.queue,
      },
    );
  }
  if (sub.deliveryLimit !== undefined && sub.deliveryLimit !== declared.deliveryLimit) {
    throw new ConflictError(
      `queue ${sub.queue} is declared with deliveryLimit ${declared.deliveryLimit}, not ${sub.deliveryLimit}`,
      { queue: sub.queue, declared: declared.deliveryLimit, requested: sub.deliveryLimit },
    );
  }
  const bindings = [...new Set([...declared.bindings, ...sub.bindings])];
  return Object.freeze({ ...declared, bindings: Object.freeze(bindings) });
}
