/**
 * Events on the wire (HTTP, AMQP): JSON with ISO-8601 timestamps, parsed back with zod.
 *
 * @module
 */
import { z } from 'zod';
import { cursorSchema, idSchema, nameSchema } from '../validation.js';
import type { JsonValue, StoredEvent } from './model.js';
import { EVENT_STATUSES } from './status.js';
import { traceContextSchema } from './trace-context.js';

const date = z.union([z.iso.datetime({ offset: true }), z.date()]).transform((v) => new Date(v));

/** A stored event as JSON carries it (`JSON.stringify` of a {@link StoredEvent}); parses to a StoredEvent. */
export const wireEventSchema: z.ZodType<StoredEvent, unknown> = z.object({
  id: idSchema,
  type: nameSchema,
  payload: z.unknown(),
  region: nameSchema,
  serverId: nameSchema.nullable(),
  status: z.enum(EVENT_STATUSES),
  attempts: z.number().int().nonnegative(),
  leaseOwner: z.string().nullable(),
  leaseExpiresAt: date.nullable(),
  idempotencyKey: z.string().nullable(),
  error: z.string().nullable(),
  result: z.json().nullable(),
  version: z.number().int().positive(),
  seq: cursorSchema,
  createdAt: date,
  updatedAt: date,
  // Absent from peers older than trace contexts: read as none.
  traceContext: traceContextSchema.nullish().transform((t) => t ?? null),
});

/** The JSON form of an event (dates as ISO strings). */
export type WireEvent = Omit<StoredEvent, 'createdAt' | 'updatedAt' | 'leaseExpiresAt' | 'payload'> & {
  readonly payload: JsonValue;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly leaseExpiresAt: string | null;
};

/** The JSON form of an event. */
export function toWireEvent(e: StoredEvent): WireEvent {
  return {
    ...e,
    payload: e.payload as JsonValue,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    leaseExpiresAt: e.leaseExpiresAt?.toISOString() ?? null,
  };
}
