/**
 * The types around {@link EventStore}: events typed by their registered type, the store's events,
 * options and limits.
 *
 * @module
 */
import type { z } from 'zod';
// For links in the TSDoc only.
import type { DEFAULT_MAX_PAYLOAD_BYTES, maxEventMessageBytes } from '../events/limits.js';
import type { NewEvent, StoredEvent } from '../events/model.js';
import type { EventTypeMap, EventTypeRegistry } from '../events/registry.js';
import type { Logger } from '../logger.js';
import type { EventStoreDriver } from './driver.js';

/** A stored event of any registered type, with its payload typed. */
export type EventOf<M extends EventTypeMap> = {
  [K in Extract<keyof M, string>]: StoredEvent<K, z.output<M[K]>>;
}[Extract<keyof M, string>];

/** A new event of any registered type, with its payload typed. */
export type NewEventOf<M extends EventTypeMap> = {
  [K in Extract<keyof M, string>]: NewEvent<K, z.input<M[K]>>;
}[Extract<keyof M, string>];

/** Events an {@link EventStore} emits; one payload object each. */
export interface EventStoreEvents {
  /** A batch was appended (idempotent replays included in `count`). */
  'store:appended': (e: { count: number }) => void;
  /** A transition was applied. */
  'store:transitioned': (e: { id: number; to: StoredEvent['status'] }) => void;
  /** A claim returned events. */
  'store:claimed': (e: { owner: string; count: number }) => void;
  /** A claim found nothing to do. */
  'store:claim:empty': (e: { owner: string }) => void;
  /** A transient backend failure is being retried. */
  'store:retry': (e: { operation: string; attempt: number; error: Error }) => void;
  /** The store was closed. */
  'store:closed': (e: Record<string, never>) => void;
}

/** Options of {@link EventStore}. */
export interface EventStoreOptions<M extends EventTypeMap> {
  /** The backend. */
  driver: EventStoreDriver;
  /** The registered event types. */
  types: EventTypeRegistry<M>;
  /** Logger (default: no-op). */
  logger?: Logger;
  /**
   * Largest payload, as UTF-8 JSON bytes (default {@link DEFAULT_MAX_PAYLOAD_BYTES}, 512 KiB; at
   * most 16 MiB). With more than the default, give the bus a `maxMessageBytes` of at least
   * {@link maxEventMessageBytes}, or the relay parks the largest events instead of publishing them.
   */
  maxPayloadBytes?: number;
  /** Largest batch of `append` and of `transitionMany` (default 5,000; at most 10,000). */
  maxBatchSize?: number;
  /**
   * Write calls (append, transition, claim) waiting for their turn at most, when the driver runs a
   * limited number at once (its `writeConcurrency`): default 10,000, 1 to 1,000,000. One more is
   * refused with a `BusyError` (`retryAfterMs` 100) instead of queueing without bound while the
   * database is slower than the callers.
   */
  maxQueuedWrites?: number;
  /** Retries of transient backend failures (default 5). */
  retries?: number;
}

/** The size limits an {@link EventStore} enforces on every write (see `events/limits.ts`). */
export interface EventLimits {
  /** Largest payload, as UTF-8 JSON bytes. */
  readonly maxPayloadBytes: number;
  /** Largest transition `result`, as UTF-8 JSON bytes. */
  readonly maxResultBytes: number;
  /** Largest transition `error`, as UTF-8 JSON bytes. */
  readonly maxErrorBytes: number;
}
