/**
 * Options of the {@link EventRouter}, parsed once into a frozen object with documented defaults.
 *
 * @module
 */
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { nameSchema } from '../validation.js';
import type { AgentAuthenticator } from './auth/authenticator.js';
import type { RouterInput } from './inputs/input.js';
import type { AgentMetrics } from './protocol.js';
import type { RouterStore } from './router-store.js';

/** Receives every agent heartbeat's metrics, e.g. the scheduler's push metrics source `report`. */
export type MetricsSink = (serverId: string, metrics: AgentMetrics, at: Date) => void;

/** Options of {@link EventRouter}. Limits say what happens when they are reached. */
export interface EventRouterOptions {
  /** The store: read for changes (by the poll input), written for acknowledgements. */
  store: RouterStore;
  /** The region served. Agents with tokens for another region are refused. */
  region: string;
  /** Verifies agent tokens, e.g. an {@link AgentKeyring}. */
  auth: AgentAuthenticator;
  /** Where changes come from (default: a {@link StorePollInput} with a 1,000 ms interval). */
  input?: RouterInput;
  /** This router's id in logs and welcome frames (default `router-<region>-<random>`). */
  id?: string;
  /** Logger (default: no-op). Tokens and secrets are never logged. */
  logger?: Logger;
  /** Called with each heartbeat's metrics (errors it throws are logged and ignored). */
  onMetrics?: MetricsSink;
  /** Heartbeat interval agents are told to keep (default 5,000 ms). */
  heartbeatMs?: number;
  /** An agent silent this long is closed with `idle-timeout` (default 3 × heartbeatMs). */
  idleTimeoutMs?: number;
  /** A connection that has not said hello after this long is closed with `hello-timeout` (default 10,000 ms). */
  helloTimeoutMs?: number;
  /** Most agents served at once; the next is refused with `capacity` (default 50,000). */
  maxAgents?: number;
  /** Events buffered for one agent; past it the agent is closed with `slow-consumer` and resumes (default 1,000). */
  maxBufferedEvents?: number;
  /** Bytes the transport may hold for one agent; past it, `slow-consumer` (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Changes kept for resume; an older cursor gets a `resync` (default 50,000). */
  historySize?: number;
  /**
   * Characters of encoded changes the history holds (≈ bytes for ASCII JSON); past it the oldest
   * are dropped, so an older cursor gets a `resync` (default 16 MiB: what it holds, it holds for
   * good, so an hour of large events must not pin more than that).
   */
  maxHistoryBytes?: number;
  /** Open events of the region kept in memory to answer resyncs; past it resyncs read the store (default 200,000). */
  maxOpenEvents?: number;
  /**
   * Characters of encoded open events held to answer resyncs from memory (≈ bytes); past it the
   * encodings are released and resyncs read the store (default 128 MiB).
   */
  maxOpenEventBytes?: number;
  /** Acknowledgements per store batch (default 500). */
  ackBatchSize?: number;
  /** A partial batch is applied this long after the previous batch started (default 5 ms); a full one at once. */
  ackFlushMs?: number;
  /** Acknowledgements queued at most; the rest are answered `BUSY` and re-sent by the agent (default 20,000). */
  maxPendingAcks?: number;
  /** Bytes of acknowledgement frames queued at most (their results); the rest are answered `BUSY` (default 32 MiB). */
  maxPendingAckBytes?: number;
  /**
   * Frames one agent may send per second on average, and at once after a second of quiet; one
   * more closes it with `rate-limited` before the frame is parsed (1–1,000,000, default 1,000).
   * Counted per connection. The Agent sends a heartbeat every `heartbeatMs` and its acks in at
   * most one batch of frames per 5 ms (each frame holds up to 1,000 acks).
   */
  maxFramesPerSecond?: number;
  /** Database queries in flight at once, so connections held (default 2). */
  maxDbConcurrency?: number;
  /** Resync reads queued at most; past it the agent is closed with `capacity` (default 1,000). */
  maxQueuedQueries?: number;
}

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', `must be ${what}`);
const obj = <T>(what: string, key: string) =>
  z.custom<T>((v) => typeof v === 'object' && v !== null && key in v, `must be ${what}`);
const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** @internal */
export const routerOptionsSchema = z
  .object({
    store: obj<RouterStore>('an EventStore', 'readFeed'),
    region: nameSchema,
    auth: obj<AgentAuthenticator>('an AgentAuthenticator', 'authenticate'),
    input: obj<RouterInput>('a RouterInput', 'start').optional(),
    id: nameSchema.optional(),
    logger: obj<Logger>('a Logger', 'child').optional(),
    onMetrics: fn<MetricsSink>('a function').optional(),
    heartbeatMs: int(100, 600_000).default(5_000),
    idleTimeoutMs: int(300, 3_600_000).optional(),
    helloTimeoutMs: int(100, 600_000).default(10_000),
    maxAgents: int(1, 1_000_000).default(50_000),
    maxBufferedEvents: int(1, 1_000_000).default(1_000),
    maxBufferedBytes: int(1_024, 1024 ** 3).default(4 * 1024 * 1024),
    historySize: int(1, 10_000_000).default(50_000),
    maxHistoryBytes: int(1_024, 64 * 1024 ** 3).default(16 * 1024 * 1024),
    maxOpenEvents: int(1, 10_000_000).default(200_000),
    maxOpenEventBytes: int(1_024, 64 * 1024 ** 3).default(128 * 1024 * 1024),
    ackBatchSize: int(1, 5_000).default(500),
    ackFlushMs: int(0, 10_000).default(5),
    maxPendingAcks: int(1, 1_000_000).default(20_000),
    maxPendingAckBytes: int(1_024, 64 * 1024 ** 3).default(32 * 1024 * 1024),
    maxFramesPerSecond: int(1, 1_000_000).default(1_000),
    maxDbConcurrency: int(1, 64).default(2),
    maxQueuedQueries: int(1, 1_000_000).default(1_000),
  })
  .strict();

/** @internal */
export type ParsedRouterOptions = z.output<typeof routerOptionsSchema> & {
  idleTimeoutMs: number;
  id: string;
};
