/**
 * The wire protocol between an {@link EventRouter} and its agents: JSON text frames, each
 * validated with zod on receipt by both sides. Version 1.
 *
 * @module
 */
import { z } from 'zod';
import { MAX_JSON_DEPTH } from '../events/json-check.js';
import type { JsonValue, StoredEvent } from '../events/model.js';
import { EVENT_STATUSES } from '../events/status.js';
import { traceContextSchema } from '../events/trace-context.js';
import { cursorSchema, idSchema, nameSchema } from '../validation.js';

/** The protocol version both sides speak. */
export const PROTOCOL_VERSION = 1;

/** Largest frame an agent may send, in UTF-8 bytes (1 MiB); a larger one closes the connection with `protocol-error`. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * Largest frame an agent may send before the router has accepted its hello, in UTF-8 bytes
 * (16 KiB: a hello with the longest token, 4,096 characters, fits with room to spare). Before its
 * hello an agent is unauthenticated, so it gets the smallest budget that works.
 */
export const MAX_HELLO_FRAME_BYTES = 16 * 1024;
/**
 * Largest frame a router sends, in UTF-8 bytes (64 MiB), and so the default `maxPayload` of an
 * agent's WebSocket connector. A router cuts its `events` and `snapshot` frames at 256 KiB, so only
 * a single event larger than that makes a larger frame; an event is bounded by the store (payloads
 * up to `maxPayloadBytes`, at most 16 MiB) and by the limits on results, well inside this.
 */
export const MAX_ROUTER_FRAME_BYTES = 64 * 1024 * 1024;
/**
 * Deepest nesting of objects and arrays in a frame, either way (67): a payload or result nested as
 * deep as the store allows (64 levels, its `MAX_JSON_DEPTH`) inside the frame's own three levels
 * (frame, list, event or acknowledgement).
 */
export const MAX_FRAME_DEPTH = MAX_JSON_DEPTH + 3;
/**
 * @internal Most items one frame may list: more than 1 MiB can carry. A bound declared first makes
 * zod refuse an oversized list before parsing its items (an unbounded one collects an issue per
 * bad item: GHSA-mrhx-c7xc-m3w5).
 */
const MAX_FRAME_ITEMS = 10_000;
/** Most metrics one heartbeat may carry. */
const MAX_METRICS = 64;

/** Numeric metrics an agent reports with each heartbeat (at most 64 keys). */
export type AgentMetrics = Readonly<Record<string, number>>;

/** The statuses an agent may acknowledge. */
export type AckStatus = 'running' | 'done' | 'failed';

/**
 * Why a router tells an agent to resync: it has no cursor (`fresh`), its cursor is older than the
 * router's history (`too-old`), or its cursor is beyond the store's head (`ahead`: the feed was
 * reset, or the cursor belongs to another store), so resuming from it would miss changes.
 */
export type ResyncReason = 'fresh' | 'too-old' | 'ahead';

/** An object with at most `max` own keys, counted without collecting them all. */
function hasAtMostKeys(v: unknown, max: number): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  let n = 0;
  for (const _ in v) if (++n > max) return false;
  return true;
}

/**
 * @internal The key count is checked before any entry is parsed: a refine after the record
 * would let zod parse every one of 75,000 entries first.
 */
export const metricsSchema = z
  .custom<Record<string, unknown>>(
    (v) => hasAtMostKeys(v, MAX_METRICS),
    `must be an object of at most ${MAX_METRICS} metrics`,
  )
  .pipe(z.record(z.string().min(1).max(64), z.number().refine(Number.isFinite, 'must be a finite number')));

/**
 * JSON data inside a frame. Frames come from `JSON.parse`, so any value is JSON, and their depth
 * was bounded before parsing; z.json() would walk the value again, recursively (stack and CPU).
 */
const jsonData = z.custom<JsonValue>((v) => v !== undefined, 'must be JSON data');

/** @internal An event as it travels: dates as ISO strings. */
export const wireEventSchema = z.object({
  id: idSchema,
  type: nameSchema,
  payload: z.unknown(),
  region: nameSchema,
  serverId: nameSchema,
  status: z.enum(EVENT_STATUSES),
  attempts: z.number().int().nonnegative(),
  version: z.number().int().positive(),
  seq: cursorSchema,
  error: z.string().nullable(),
  result: jsonData.nullable(),
  idempotencyKey: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  // Absent from routers older than trace contexts: read as none.
  traceContext: traceContextSchema.nullish(),
});

/** @internal */
export type WireEvent = z.output<typeof wireEventSchema>;

const ackSchema = z
  .object({
    id: idSchema,
    status: z.enum(['running', 'done', 'failed']),
    error: z.string().max(65_535).optional(),
    result: jsonData.optional(),
    // The agent's side of the event's trace (its handler span), carried back: at most ~570 bytes.
    traceContext: traceContextSchema.optional(),
  })
  .strict();

/** @internal Frames an agent sends. */
export const agentFrameSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('hello'),
      protocol: z.literal(PROTOCOL_VERSION),
      token: z.string().min(1).max(4096),
      serverId: nameSchema,
      cursor: cursorSchema.nullable(),
    })
    .strict(),
  z.object({ type: z.literal('ack'), acks: z.array(ackSchema).max(1_000).min(1) }).strict(),
  z
    .object({ type: z.literal('heartbeat'), at: z.number().int().nonnegative(), metrics: metricsSchema })
    .strict(),
  z.object({ type: z.literal('snapshot') }).strict(),
]);

/** @internal */
export type AgentFrame = z.output<typeof agentFrameSchema>;
/** @internal */
export type AckFrameItem = z.output<typeof ackSchema>;

const ackResultSchema = z.object({
  id: idSchema,
  status: z.enum(['running', 'done', 'failed']),
  ok: z.boolean(),
  code: z.string().max(64).optional(),
  message: z.string().max(1_000).optional(),
  actual: z.enum(EVENT_STATUSES).optional(),
});

/** @internal The outcome of one acknowledgement, as the router reports it. */
export type AckResult = z.output<typeof ackResultSchema>;

/** @internal Frames a router sends. */
export const routerFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    protocol: z.literal(PROTOCOL_VERSION),
    routerId: nameSchema,
    region: nameSchema,
    serverId: nameSchema,
    cursor: cursorSchema,
    resumed: z.boolean(),
    heartbeatMs: z.number().int().positive(),
  }),
  z.object({
    type: z.literal('events'),
    events: z.array(wireEventSchema).max(MAX_FRAME_ITEMS),
    cursor: cursorSchema,
  }),
  z.object({
    type: z.literal('resync'),
    reason: z.enum(['fresh', 'too-old', 'ahead']),
    oldest: cursorSchema,
  }),
  z.object({
    type: z.literal('snapshot'),
    events: z.array(wireEventSchema).max(MAX_FRAME_ITEMS),
    done: z.boolean(),
    cursor: cursorSchema.nullable(),
  }),
  z.object({ type: z.literal('acked'), results: z.array(ackResultSchema).max(MAX_FRAME_ITEMS) }),
  z.object({ type: z.literal('pong'), at: z.number().int().nonnegative(), cursor: cursorSchema.nullable() }),
]);

/** @internal */
export type RouterFrame = z.output<typeof routerFrameSchema>;

/** @internal The JSON text of one event on the wire; built once per change, shared by every frame. */
export function encodeEvent(e: StoredEvent): string {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    payload: e.payload,
    region: e.region,
    serverId: e.serverId,
    status: e.status,
    attempts: e.attempts,
    version: e.version,
    seq: e.seq,
    error: e.error,
    result: e.result,
    idempotencyKey: e.idempotencyKey,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    traceContext: e.traceContext,
  });
}

/** @internal An `events` or `snapshot` frame around already-encoded events. */
export function encodeEventsFrame(
  kind: 'events' | 'snapshot',
  events: readonly string[],
  cursor: number | null,
  done = true,
): string {
  const tail = kind === 'snapshot' ? `,"done":${done}` : '';
  return `{"type":"${kind}","cursor":${cursor === null ? 'null' : cursor}${tail},"events":[${events.join(',')}]}`;
}

/** @internal A wire event back as a {@link StoredEvent} (no lease fields: agents do not use leases). */
export function decodeEvent(w: WireEvent): StoredEvent {
  return {
    id: w.id,
    type: w.type,
    payload: w.payload,
    region: w.region,
    serverId: w.serverId,
    status: w.status,
    attempts: w.attempts,
    leaseOwner: null,
    leaseExpiresAt: null,
    idempotencyKey: w.idempotencyKey,
    error: w.error,
    result: w.result,
    version: w.version,
    seq: w.seq,
    createdAt: new Date(w.createdAt),
    updatedAt: new Date(w.updatedAt),
    traceContext: w.traceContext ?? null,
  };
}
