/**
 * Rows read back from the events table, parsed before they leave the adapter (with the
 * hand-written checks of row-checks.ts: this runs for every row of every read and claim).
 *
 * @module
 */
import {
  EVENT_STATUSES,
  type EventStatus,
  isTraceContext,
  type JsonValue,
  type StoredEvent,
  type TraceContext,
} from '@ctlplane/core';
import { RowReader } from '../row-checks.js';

/** @internal The columns every event read selects, in order. */
export const EVENT_COLUMNS =
  'id, seq, type, region, server_id, status, attempts, lease_owner, lease_expires_at, idempotency_key, payload, error, result, version, created_at, updated_at, trace_parent, trace_state';

const STATUSES = new Set<string>(EVENT_STATUSES);

/** @internal Parse one row of the events table. */
export function toEvent(input: unknown): StoredEvent {
  const r = new RowReader('events', input);
  return {
    id: r.count('id'),
    seq: r.count('seq'),
    type: r.text('type'),
    region: r.text('region'),
    serverId: r.textOrNull('server_id'),
    status: r.oneOf<EventStatus>('status', STATUSES),
    attempts: r.count('attempts'),
    leaseOwner: r.textOrNull('lease_owner'),
    leaseExpiresAt: r.isNull('lease_expires_at') ? null : r.date('lease_expires_at'),
    idempotencyKey: r.textOrNull('idempotency_key'),
    payload: r.json('payload') as JsonValue,
    error: r.textOrNull('error'),
    result: r.isNull('result') ? null : (r.json('result') as JsonValue),
    version: r.count('version'),
    createdAt: r.date('created_at'),
    updatedAt: r.date('updated_at'),
    traceContext: traceContextOf(r),
  };
}

/**
 * The stored trace context, checked as any other column: a bad one is a corrupt row. Checked by
 * hand, not with zod: a traced feed read checks one per row.
 */
function traceContextOf(r: RowReader): TraceContext | null {
  const traceparent = r.textOrNull('trace_parent');
  if (traceparent === null) return null;
  const tracestate = r.textOrNull('trace_state');
  const tc = tracestate === null ? { traceparent } : { traceparent, tracestate };
  r.check('trace_parent', isTraceContext(tc), 'must be a W3C trace context');
  return tc;
}
