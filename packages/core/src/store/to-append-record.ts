/**
 * A caller's new event turned into the {@link AppendRecord} a driver stores: the envelope, the
 * payload against its registered schema, plain JSON of bounded size before and after parsing.
 *
 * @module
 */
import { ValidationError } from '../errors.js';
import { checkJson } from '../events/json-check.js';
import type { JsonValue, StoredEvent } from '../events/model.js';
import type { EventTypeMap, EventTypeRegistry } from '../events/registry.js';
import { activeTraceContext } from '../tracing/tracing.js';
import { issuesFromZod } from '../validation.js';
import type { AppendRecord } from './driver.js';
import { newEventSchema } from './schemas.js';

/** @internal What an event is checked against. */
export interface AppendRules<M extends EventTypeMap = EventTypeMap> {
  /** The registered event types. */
  readonly types: EventTypeRegistry<M>;
  /** Largest payload, as JSON bytes. */
  readonly maxPayloadBytes: number;
}

/**
 * @internal Validate `event`, position `i` of its batch, and build its record.
 *
 * @param snapshot - give the record its own copy of the payload, so that a caller changing its
 *   object afterwards cannot change what is stored (for a record appended later, as Harpoon's are)
 * @throws ValidationError naming `[i].field`
 */
export function toAppendRecord<M extends EventTypeMap>(
  event: unknown,
  i: number,
  rules: AppendRules<M>,
  snapshot = false,
): AppendRecord {
  const checked = newEventSchema.safeParse(event);
  if (!checked.success) {
    // Paths start at the batch position, as the payload's do: `[3].region`.
    const issues = issuesFromZod(checked.error, `[${i}]`);
    throw new ValidationError(issues.map((x) => `${x.path}: ${x.message}`).join('; '), issues, {
      cause: checked.error,
    });
  }
  const e = checked.data;
  // Size and plain JSON first, in a walk bounded by the limit: zod and JSON.stringify would
  // overflow the stack on absurd nesting, and would copy a 7 MB payload before refusing it.
  const limits = { maxBytes: rules.maxPayloadBytes };
  const raw = checkJson(e.payload, `[${i}].payload`, limits);
  if (raw.issue) throw new ValidationError(`${raw.issue.path}: ${raw.issue.message}`, [raw.issue]);
  const payload = rules.types.parse(e.type, e.payload, `[${i}].`) as JsonValue;
  // The schema may transform the payload: what is stored is checked again.
  const parsed = checkJson(payload, `[${i}].payload`, limits);
  if (parsed.issue)
    throw new ValidationError(`${parsed.issue.path}: ${parsed.issue.message}`, [parsed.issue]);
  const serverId = e.serverId ?? null;
  return {
    type: e.type,
    // checkJson passed, so the JSON text is the whole payload and parses back to equal data.
    payload: snapshot ? (JSON.parse(JSON.stringify(payload)) as JsonValue) : payload,
    region: e.region,
    serverId,
    status: serverId ? 'placed' : 'pending',
    idempotencyKey: e.idempotencyKey ?? null,
    // Omitted: the caller's active span, if any. Null: the caller asked for none.
    traceContext: e.traceContext === undefined ? activeTraceContext() : e.traceContext,
  };
}

/**
 * The event a driver stored for `record`: version 1, no lease, attempt, error or result yet.
 *
 * @param at - the time of the append (`createdAt` and `updatedAt`)
 */
export function storedFromRecord(record: AppendRecord, id: number, seq: number, at: Date): StoredEvent {
  return {
    id,
    seq,
    type: record.type,
    payload: record.payload,
    region: record.region,
    serverId: record.serverId,
    status: record.status,
    attempts: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    idempotencyKey: record.idempotencyKey,
    error: null,
    result: null,
    version: 1,
    createdAt: at,
    updatedAt: at,
    traceContext: record.traceContext,
  };
}
