/**
 * Rows read back from the events table, parsed before they leave the adapter. Hand-written
 * checks instead of a zod object: this runs for every row of every read and claim, and a failed
 * check still names the column.
 *
 * @module
 */
import {
  EVENT_STATUSES,
  type EventStatus,
  type JsonValue,
  type StoredEvent,
  ValidationError,
} from '@ctlplane/core';

/** @internal The columns every event read selects, in order. */
export const EVENT_COLUMNS =
  'id, seq, type, region, server_id, status, attempts, lease_owner, lease_expires_at, idempotency_key, payload, error, result, version, created_at, updated_at';

const STATUSES = new Set<string>(EVENT_STATUSES);

function bad(column: string, rule: string): never {
  throw new ValidationError(`events row: ${column}: ${rule}`, [{ path: column, message: rule }]);
}

function count(row: Record<string, unknown>, column: string): number {
  const n = Number(row[column]);
  if (!Number.isSafeInteger(n) || n < 0) bad(column, 'must be a non-negative integer');
  return n;
}

function text(row: Record<string, unknown>, column: string): string {
  const v = row[column];
  if (typeof v !== 'string') bad(column, 'must be a string');
  return v;
}

function textOrNull(row: Record<string, unknown>, column: string): string | null {
  return row[column] === null ? null : text(row, column);
}

function date(row: Record<string, unknown>, column: string): Date {
  const v = row[column];
  if (!(v instanceof Date) || Number.isNaN(v.getTime())) bad(column, 'must be a date');
  return v;
}

function json(row: Record<string, unknown>, column: string): JsonValue {
  try {
    return JSON.parse(text(row, column)) as JsonValue;
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    return bad(column, 'must be valid JSON');
  }
}

/** @internal Parse one row of the events table. */
export function toEvent(input: unknown): StoredEvent {
  if (typeof input !== 'object' || input === null) bad('(row)', 'must be an object');
  const row = input as Record<string, unknown>;
  const status = text(row, 'status');
  if (!STATUSES.has(status)) bad('status', 'must be a lifecycle status');
  return {
    id: count(row, 'id'),
    seq: count(row, 'seq'),
    type: text(row, 'type'),
    region: text(row, 'region'),
    serverId: textOrNull(row, 'server_id'),
    status: status as EventStatus,
    attempts: count(row, 'attempts'),
    leaseOwner: textOrNull(row, 'lease_owner'),
    leaseExpiresAt: row.lease_expires_at === null ? null : date(row, 'lease_expires_at'),
    idempotencyKey: textOrNull(row, 'idempotency_key'),
    payload: json(row, 'payload'),
    error: textOrNull(row, 'error'),
    result: row.result === null ? null : json(row, 'result'),
    version: count(row, 'version'),
    createdAt: date(row, 'created_at'),
    updatedAt: date(row, 'updated_at'),
  };
}
