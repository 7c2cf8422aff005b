/**
 * Rows read back from the events table, parsed before they leave the adapter.
 *
 * @module
 */
import { EVENT_STATUSES, type JsonValue, parseOrThrow, type StoredEvent } from '@ctlplane/core';
import { z } from 'zod';

const jsonText = z.string().transform((s, ctx): JsonValue => {
  try {
    return JSON.parse(s) as JsonValue;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
    return z.NEVER;
  }
});
const date = z.date();
const count = z.coerce.number().int().nonnegative();

const rowSchema = z.object({
  id: count,
  seq: count,
  type: z.string(),
  region: z.string(),
  server_id: z.string().nullable(),
  status: z.enum(EVENT_STATUSES),
  attempts: count,
  lease_owner: z.string().nullable(),
  lease_expires_at: date.nullable(),
  idempotency_key: z.string().nullable(),
  payload: jsonText,
  error: z.string().nullable(),
  result: jsonText.nullable(),
  version: count,
  created_at: date,
  updated_at: date,
});

/** @internal The columns every event read selects, in order. */
export const EVENT_COLUMNS =
  'id, seq, type, region, server_id, status, attempts, lease_owner, lease_expires_at, idempotency_key, payload, error, result, version, created_at, updated_at';

/** @internal Parse one row of the events table. */
export function toEvent(row: unknown): StoredEvent {
  const r = parseOrThrow(rowSchema, row, 'events row');
  return {
    id: r.id,
    seq: r.seq,
    type: r.type,
    region: r.region,
    serverId: r.server_id,
    status: r.status,
    attempts: r.attempts,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    idempotencyKey: r.idempotency_key,
    payload: r.payload,
    error: r.error,
    result: r.result,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
