/**
 * The MessageBus port: publish with a broker confirm, subscribe with acks, topology from config.
 * Backends live in `@ctlplane/adapters/memory` (`MemoryBus`) and `@ctlplane/adapters/amqp`
 * (`AmqpBus`); the same conformance suite runs against both.
 *
 * @module
 */
import type { EventEmitter } from 'eventemitter3';
import { isCtlplaneError } from '../errors.js';
import type { JsonValue } from '../events/model.js';
import type { BusQueueConfig } from './topology.js';

/** A header value: what AMQP tables and JSON both carry without loss. */
export type HeaderValue = string | number | boolean;

/** Application headers of a message. Names starting with `x-` are reserved for the broker. */
export type BusHeaders = Readonly<Record<string, HeaderValue>>;

/** A message to publish. */
export interface OutgoingMessage {
  /** Topic routing key: dot-separated words, at most 255 bytes (see {@link eventRoutingKey}). */
  routingKey: string;
  /** The body; any JSON value. */
  body: JsonValue;
  /** Application headers (names must not start with `x-`). */
  headers?: Record<string, HeaderValue>;
  /**
   * Message id consumers deduplicate on (default: a random UUID). Keep it stable across retries of
   * the same logical message, e.g. `event:42:v3`.
   */
  id?: string;
}

/** A message as a consumer receives it. */
export interface BusMessage {
  /** The publisher's message id: the same on every redelivery and every republish. */
  readonly id: string;
  /** The routing key it was published with. */
  readonly routingKey: string;
  /** The body, parsed from JSON. */
  readonly body: JsonValue;
  /** Application headers (broker `x-` headers removed). */
  readonly headers: BusHeaders;
  /** When it was first published, in ms since the epoch. */
  readonly timestamp: number;
  /** True when this message may have been delivered before (to this or another consumer). */
  readonly redelivered: boolean;
  /** Which delivery of the message this is, starting at 1. */
  readonly deliveryCount: number;
}

/** How a delivery may be settled. Exactly one settlement counts; later calls are ignored. */
export interface Delivery {
  /** The message. */
  readonly message: BusMessage;
  /** The queue it came from. */
  readonly queue: string;
  /** True once ack, nack or reject was called (by the handler or by the bus). */
  readonly settled: boolean;
  /** Done: remove the message from the queue. */
  ack(): void;
  /**
   * Failed. With `requeue` (default true) the message goes back to the queue and counts toward
   * the delivery limit; once the limit is reached it is dead-lettered. Without, it is
   * dead-lettered at once (same as {@link Delivery.reject}).
   */
  nack(options?: { requeue?: boolean }): void;
  /** Poison: dead-letter the message now, whatever the delivery count. */
  reject(): void;
}

/**
 * Handles one delivery. If it returns (or resolves) without settling the delivery and `autoAck`
 * is on, the bus acks it; if it throws (or rejects) without settling, the bus nacks it with
 * requeue, which counts toward the delivery limit.
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<void> | void;

/** What to consume. */
export interface SubscribeOptions {
  /** The queue to consume; declared (durable) if the topology does not already declare it. */
  queue: string;
  /**
   * Topic patterns bound to the queue on the bus exchange (`*` one word, `#` zero or more). Added
   * to the bindings the topology declares; never removed by a later subscribe.
   */
  bindings?: readonly string[];
  /** Most deliveries in flight (unsettled) on this subscription (default: the bus's default, 32). */
  prefetch?: number;
  /** Deliveries of one message before it is dead-lettered (default: the queue's, else 5). */
  deliveryLimit?: number;
  /** Ack when the handler returns without settling (default true). */
  autoAck?: boolean;
  /** Consume the queue's dead-letter queue instead of the queue itself. */
  deadLetters?: boolean;
  /**
   * When subscribe declares the queue: delete it (with its dead-letter queue) after this long
   * without a consumer, e.g. a per-process queue. See {@link BusQueueConfig.expiresMs}.
   */
  expiresMs?: number;
}

/** A running consumer. */
export interface Subscription {
  /** The queue it consumes. */
  readonly queue: string;
  /** True once cancelled (by the caller, or by closing the bus). */
  readonly cancelled: boolean;
  /**
   * Stop consuming. Waits for handlers in flight to return; any delivery still unsettled then
   * goes back to the queue (a delivery attempt on RabbitMQ quorum queues). Idempotent.
   */
  cancel(): Promise<void>;
}

/** What a backend offers beyond the common contract; gates backend-only tests. */
export interface BusCapabilities {
  /** Several processes can share the bus. */
  readonly multiProcess: boolean;
  /** Queued messages survive a restart of the broker (and of this process). */
  readonly durable: boolean;
}

/** Events a {@link MessageBus} emits; one payload object each. */
export interface MessageBusEvents {
  /** Connected to a broker and declared the topology (never emitted by the memory bus). */
  'bus:connected': (e: { url: string }) => void;
  /** Lost the broker; publishes wait in the outage buffer, consumers pause. */
  'bus:disconnected': (e: { url: string; error: Error | null }) => void;
  /** Trying again after `delayMs` (attempt counts from 1 within one outage). */
  'bus:reconnecting': (e: { attempt: number; delayMs: number; error: Error }) => void;
  /** A publish or publishMany call was confirmed by the broker, every message of it. */
  'bus:published': (e: { count: number }) => void;
  /** Messages unconfirmed when the connection broke were sent again (same ids). */
  'bus:republished': (e: { count: number }) => void;
  /** A message was delivered again after a nack, a failed handler or a lost consumer. */
  'bus:redelivered': (e: { queue: string; id: string; deliveryCount: number }) => void;
  /** A message went to the queue's dead-letter queue. */
  'bus:dead-lettered': (e: {
    queue: string;
    id: string;
    deliveryCount: number;
    reason: 'rejected' | 'delivery-limit' | 'malformed';
  }) => void;
  /** A handler threw; the delivery was nacked with requeue. */
  'bus:handler:failed': (e: { queue: string; id: string; deliveryCount: number; error: Error }) => void;
  /** The broker throttles publishers (memory or disk alarm). */
  'bus:blocked': (e: { reason: string }) => void;
  /** The broker lifted its throttle. */
  'bus:unblocked': (e: Record<string, never>) => void;
  /** The bus was closed. */
  'bus:closed': (e: Record<string, never>) => void;
}

/**
 * The message bus port: topic routing, confirmed publishes, acknowledged deliveries with a
 * delivery limit and dead-lettering. At-least-once: consumers deduplicate on `message.id`.
 *
 * @example
 * ```ts
 * import { eventRoutingKey, regionPattern, type MessageBus } from '@ctlplane/core';
 *
 * async function wire(bus: MessageBus): Promise<void> {
 *   await bus.subscribe({ queue: 'router.nyc1', bindings: [regionPattern('nyc1')] }, async (d) => {
 *     console.log(d.message.id, d.message.body);
 *   });
 *   const key = eventRoutingKey({ type: 'droplet.create', region: 'nyc1', serverId: null });
 *   await bus.publish({ routingKey: key, body: { id: 1 }, id: 'event:1' });
 * }
 * ```
 */
export interface MessageBus extends EventEmitter<MessageBusEvents> {
  /** Backend name for logs: `memory`, `amqp`. */
  readonly name: string;
  /** What the backend offers. */
  readonly capabilities: BusCapabilities;
  /** Largest message body it publishes, in UTF-8 JSON bytes; a larger one is a `ValidationError`. */
  readonly maxMessageBytes: number;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /**
   * Resolves once the bus is connected and its topology declared (at once for memory).
   * @throws ClosedError when the bus is closed first
   */
  ready(): Promise<void>;
  /**
   * Publish one message; resolves once the broker confirmed it (it is in every matching queue).
   * A message that matches no binding is dropped and still confirmed.
   *
   * Failures are typed so a caller can tell a message that can never be published from a bus that
   * cannot publish right now: an `UnpublishableError` (a `ValidationError`) is permanent for that
   * message (a body over `maxMessageBytes`, a routing key over 255 bytes, bad headers, refused by
   * the broker as it is), and retrying it is useless (see {@link isUnpublishable}); every other
   * failure is transient.
   *
   * @throws UnpublishableError for a message that can never be published as it is; BusyError when the
   *   outage buffer or a queue is full; UnavailableError when no broker confirmed it in time;
   *   ClosedError after close
   */
  publish(message: OutgoingMessage): Promise<void>;
  /**
   * Publish many messages pipelined (one confirm wait for all), in order. Rejects with the first
   * failure after every message settled; messages before and after it may have been published, so
   * retry the whole batch with the same ids. An `UnpublishableError` means at least one message can
   * never be published: publish fewer at a time to find which (the outbox relay halves the batch).
   */
  publishMany(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Consume a queue. The handler may run up to `prefetch` deliveries concurrently. */
  subscribe(options: SubscribeOptions, handler: DeliveryHandler): Promise<Subscription>;
  /** Delete a queue and its dead-letter queue, with any messages in them. */
  deleteQueue(queue: string): Promise<void>;
  /**
   * Close gracefully: refuse new calls, cancel every subscription (handlers in flight finish),
   * give publishes already accepted up to the bus's close timeout to be confirmed, fail the rest
   * with a ClosedError, and disconnect. Idempotent; every call returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * True when a publish failed because of the message itself (an `UnpublishableError`: too large, a
 * bad routing key or headers, refused by the broker as it is), so publishing it again can never
 * succeed; false for anything else: a failure of the bus or the broker (down, slow, full, closed)
 * or an unexpected one, which a retry may cure. Checked by code and mark, not `instanceof`, so it
 * holds across two copies of the package.
 */
export function isUnpublishable(err: unknown): boolean {
  return isCtlplaneError(err, 'VALIDATION') && (err as { unpublishable?: unknown }).unpublishable === true;
}
