/**
 * Options of the {@link Agent}, and the shape of its per-type handlers.
 *
 * @module
 */
import { z } from 'zod';
import type { JsonValue, StoredEvent } from '../../events/model.js';
import type { EventTypeMap, EventTypeRegistry, PayloadOf } from '../../events/registry.js';
import type { Logger } from '../../logger.js';
import type { BackoffOptions } from '../../retry.js';
import { cursorSchema, nameSchema } from '../../validation.js';
import type { AgentMetrics } from '../protocol.js';
import type { TransportConnector } from '../transport.js';

/** What a handler gets besides its event. */
export interface AgentHandlerContext {
  /** Aborted when the event is cancelled or failed elsewhere, or the agent stops. */
  readonly signal: AbortSignal;
  /**
   * True when the event may have run before: it arrived already `running` (a previous agent
   * process started it and did not finish). Make the work idempotent.
   */
  readonly redelivery: boolean;
  /** This agent's server. */
  readonly serverId: string;
}

/**
 * Runs one event. Resolve (optionally with a JSON result) to acknowledge `done`; throw to
 * acknowledge `failed` with the error's message.
 */
export type AgentHandler<E extends StoredEvent = StoredEvent> = (
  event: E,
  context: AgentHandlerContext,
) => Promise<JsonValue | undefined> | JsonValue | undefined;

/** One handler per event type, with the payload typed from the type registry. */
export type AgentHandlers<M extends EventTypeMap = EventTypeMap> = {
  [K in Extract<keyof M, string>]?: AgentHandler<StoredEvent<K, PayloadOf<M, K>>>;
};

/** Options of {@link Agent}. */
export interface AgentOptions<M extends EventTypeMap = EventTypeMap> {
  /** The server this agent runs on; must match its token. */
  serverId: string;
  /** The agent's token, or a function returning a fresh one before each connection. */
  token: string | (() => string | Promise<string>);
  /** Router URLs, tried in turn: on a failed connection or a router shutdown the next one is used. */
  urls: readonly string[];
  /** How to reach them: an {@link InProcessTransport}, or `WsConnector` from `@ctlplane/adapters/ws`. */
  connector: TransportConnector;
  /** A handler per event type. An event with no handler is acknowledged `failed`. */
  handlers: NoInfer<AgentHandlers<M>>;
  /** When given, payloads are validated against their type's schema before the handler runs. */
  types?: EventTypeRegistry<M>;
  /** Read before each heartbeat; the router passes them on (e.g. to the scheduler). */
  metrics?: () => AgentMetrics | Promise<AgentMetrics>;
  /** Handlers running at once (default 8). */
  concurrency?: number;
  /** Events waiting for a handler at most; past it new events are acknowledged `failed` (default 10,000). */
  maxQueued?: number;
  /** Reconnect backoff: full jitter, growing per failed attempt (default 250 ms to 15 s). */
  backoff?: BackoffOptions;
  /** Heartbeat interval (default: what the router asks for). */
  heartbeatMs?: number;
  /** Acknowledge `running` before a handler starts (default true). */
  ackRunning?: boolean;
  /** Resume from this cursor instead of re-reading every open event at first connect (default null). */
  cursor?: number | null;
  /** How long a connection may take to be welcomed (default 10,000 ms). */
  connectTimeoutMs?: number;
  /** How many events' versions to remember to recognise redeliveries (default 100,000). */
  maxRemembered?: number;
  /** Logger (default: no-op). The token is never logged. */
  logger?: Logger;
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** @internal */
export const agentOptionsSchema = z
  .object({
    serverId: nameSchema,
    token: z.union([
      z.string().min(1),
      z.custom<() => string>((v) => typeof v === 'function', 'must be a string or a function'),
    ]),
    urls: z.array(z.string().min(1).max(2_048)).min(1, 'must have at least one URL').max(64),
    connector: z.custom<TransportConnector>(
      (v) => typeof v === 'object' && v !== null && 'connect' in v,
      'must be a TransportConnector',
    ),
    handlers: z.record(
      z.string(),
      z.custom((v) => typeof v === 'function', 'must be a function'),
    ),
    types: z
      .custom((v) => typeof v === 'object' && v !== null && 'parse' in v, 'must be an EventTypeRegistry')
      .optional(),
    metrics: z.custom((v) => typeof v === 'function', 'must be a function').optional(),
    concurrency: int(1, 10_000).default(8),
    maxQueued: int(1, 1_000_000).default(10_000),
    backoff: z
      .object({
        initialMs: int(1, 600_000).optional(),
        maxMs: int(1, 3_600_000).optional(),
        factor: z.number().min(1).max(10).optional(),
      })
      .strict()
      .default({ initialMs: 250, maxMs: 15_000 }),
    heartbeatMs: int(50, 600_000).optional(),
    ackRunning: z.boolean().default(true),
    cursor: cursorSchema.nullable().default(null),
    connectTimeoutMs: int(50, 600_000).default(10_000),
    maxRemembered: int(100, 10_000_000).default(100_000),
    logger: z
      .custom<Logger>((v) => typeof v === 'object' && v !== null && 'child' in v, 'must be a Logger')
      .optional(),
  })
  .strict();
