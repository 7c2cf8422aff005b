/**
 * The wire protocol between an {@link EventRouter} and its agents: JSON text frames, each
 * validated with zod on receipt by both sides. Version 1.
 *
 * @module
 */
import { z } from 'zod';
import type { JsonValue, StoredEvent } from '../events/model.js';
import { EVENT_STATUSES } from '../events/status.js';
import { cursorSchema, idSchema, nameSchema } from '../validation.js';

/** The protocol version both sides speak. */
export const PROTOCOL_VERSION = 1;

/** Largest frame either side accepts, in bytes (1 MiB). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * @internal Most items one frame may list: more than 1 MiB can carry. A bound declared first makes
 * zod refuse an oversized list before parsing its items (an unbounded one collects an issue per
 * bad item: GHSA-mrhx-c7xc-m3w5).
 */
const MAX_FRAME_ITEMS = 10_000;

/** Numeric metrics an agent reports with each heartbeat (at most 64 keys). */
export type AgentMetrics = Readonly<Record<string, number>>;

/** The statuses an agent may acknowledge. */
export type AckStatus = 'running' | 'done' | 'failed';

/** @internal */
export const metricsSchema = z
  .record(z.string().min(1).max(64), z.number().refine(Number.isFinite, 'must be a finite number'))
  .refine((m) => Object.keys(m).length <= 64, 'must have at most 64 metrics');

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
  result: z.json().nullable(),
  idempotencyKey: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

/** @internal */
export type WireEvent = z.output<typeof wireEventSchema>;

const ackSchema = z
  .object({
    id: idSchema,
    status: z.enum(['running', 'done', 'failed']),
    error: z.string().max(65_535).optional(),
    result: z.json().optional(),
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
    reason: z.enum(['fresh', 'too-old']),
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
    result: w.result as JsonValue | null,
    version: w.version,
    seq: w.seq,
    createdAt: new Date(w.createdAt),
    updatedAt: new Date(w.updatedAt),
  };
}
