/**
 * Options of {@link AmqpBus}, their defaults and their schema.
 *
 * @module
 */
import { type BusTopology, DEFAULT_MAX_MESSAGE_BYTES, type Logger } from '@ctlplane/core';
import { z } from 'zod';

/** Queue type of the queues the bus declares. */
export type AmqpQueueType = 'quorum' | 'classic';

/** Options of {@link AmqpBus}. Every duration is in milliseconds. */
export interface AmqpBusOptions {
  /**
   * Broker URL(s), `amqp://user:pass@host:5672/vhost` or `amqps://…`. With several (the nodes of a
   * cluster), each reconnect attempt takes the next one, round-robin.
   */
  urls: string | readonly string[];
  /** Exchange and queues to declare on every connect. */
  topology?: BusTopology;
  /**
   * `quorum` (default): replicated, durable, counts deliveries so the delivery limit is enforced by
   * the broker. `classic`: durable classic queues; the delivery limit is approximated (see docs).
   */
  queueType?: AmqpQueueType;
  /** Default prefetch of a subscription (default 32). */
  prefetch?: number;
  /** AMQP heartbeat in seconds (default 10; 0 disables). A dead peer is noticed within two. */
  heartbeatSeconds?: number;
  /** TCP + AMQP handshake timeout per attempt (default 5,000). */
  connectTimeoutMs?: number;
  /**
   * How long `ready()` (and so `subscribe` and `deleteQueue`, which wait for it) waits for a
   * connection before it rejects with a transient UnavailableError (default 30,000). Refused
   * credentials or virtual host reject at once instead.
   */
  readyTimeoutMs?: number;
  /** Reconnect backoff: full-jitter exponential from `initialMs` (100) to `maxMs` (5,000). */
  reconnect?: { initialMs?: number; maxMs?: number; factor?: number };
  /** Most publishes waiting or unconfirmed at once (default 50,000); beyond, BusyError. */
  maxBufferedMessages?: number;
  /** Most bytes of publishes waiting or unconfirmed at once (default 64 MiB); beyond, BusyError. */
  maxBufferedBytes?: number;
  /** Most publishes written and not yet confirmed (default 20,000): the confirm window. */
  maxInFlight?: number;
  /** A publish not confirmed within this fails with UnavailableError (default 30,000). */
  publishTimeoutMs?: number;
  /** How long close waits for accepted publishes to be confirmed (default 10,000). */
  closeTimeoutMs?: number;
  /** How long cancel and close wait for handlers in flight (default 30,000). */
  cancelTimeoutMs?: number;
  /**
   * Largest message body, as JSON bytes (default `DEFAULT_MAX_MESSAGE_BYTES`, 1 MiB); larger is a
   * ValidationError before anything is sent. Keep it at most the broker's `max_message_size`.
   */
  maxMessageBytes?: number;
  /** Connection name shown in the RabbitMQ management UI (default `ctlplane`). */
  connectionName?: string;
  /** Logger (default: no-op). URLs are logged with their password masked. */
  logger?: Logger;
}

const ms = (max: number) => z.number().int().min(0).max(max);

/** @internal */
export const amqpOptionsSchema = z
  .object({
    urls: z
      .union([z.string(), z.array(z.string()).readonly()])
      .transform((u) => (typeof u === 'string' ? [u] : [...u]))
      .pipe(
        z
          .array(
            z
              .string()
              .regex(/^amqps?:\/\/[^\s]+$/, 'must be an amqp:// or amqps:// URL')
              .refine((u) => URL.canParse(u), 'must be a valid URL'),
          )
          .min(1, 'must name at least one broker')
          .max(64),
      ),
    queueType: z.enum(['quorum', 'classic']).default('quorum'),
    prefetch: z.number().int().min(1).max(10_000).default(32),
    heartbeatSeconds: z.number().int().min(0).max(600).default(10),
    connectTimeoutMs: ms(600_000).default(5_000),
    readyTimeoutMs: ms(3_600_000).min(1).default(30_000),
    reconnect: z
      .object({
        initialMs: ms(600_000).default(100),
        maxMs: ms(3_600_000).default(5_000),
        factor: z.number().min(1).max(10).default(2),
      })
      .strict()
      .default({ initialMs: 100, maxMs: 5_000, factor: 2 }),
    maxBufferedMessages: z.number().int().min(1).max(10_000_000).default(50_000),
    maxBufferedBytes: z
      .number()
      .int()
      .min(1)
      .max(8 * 1024 ** 3)
      .default(64 * 1024 ** 2),
    maxInFlight: z.number().int().min(1).max(1_000_000).default(20_000),
    publishTimeoutMs: ms(3_600_000).min(1).default(30_000),
    closeTimeoutMs: ms(3_600_000).default(10_000),
    cancelTimeoutMs: ms(3_600_000).default(30_000),
    maxMessageBytes: z
      .number()
      .int()
      .min(1)
      .max(128 * 1024 ** 2)
      .default(DEFAULT_MAX_MESSAGE_BYTES),
    connectionName: z.string().min(1).max(255).default('ctlplane'),
  })
  .strict();

/** @internal Options with every default applied. */
export type ResolvedAmqpOptions = z.output<typeof amqpOptionsSchema>;
