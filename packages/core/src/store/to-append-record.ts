/**
 * A caller's new event turned into the {@link AppendRecord} a driver stores: the envelope, the
 * payload against its registered schema, plain JSON before and after parsing, and the size limit.
 *
 * @module
 */
import { ValidationError } from '../errors.js';
import { jsonIssue } from '../events/json-check.js';
import type { JsonValue } from '../events/model.js';
import type { EventTypeMap, EventTypeRegistry } from '../events/registry.js';
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
  // Plain JSON first: zod and JSON.stringify would overflow the stack on absurd nesting.
  const raw = jsonIssue(e.payload, `[${i}].payload`);
  if (raw) throw new ValidationError(`${raw.path}: ${raw.message}`, [raw]);
  const payload = rules.types.parse(e.type, e.payload, `[${i}].`) as JsonValue;
  const parsed = jsonIssue(payload, `[${i}].payload`);
  if (parsed) throw new ValidationError(`${parsed.path}: ${parsed.message}`, [parsed]);
  const json = JSON.stringify(payload) ?? '';
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > rules.maxPayloadBytes) {
    const message = `is ${bytes} bytes, more than the ${rules.maxPayloadBytes}-byte limit`;
    throw new ValidationError(`[${i}].payload: ${message}`, [{ path: `[${i}].payload`, message }]);
  }
  const serverId = e.serverId ?? null;
  return {
    type: e.type,
    // jsonIssue passed, so `json` is the whole payload and parses back to equal data.
    payload: snapshot ? (JSON.parse(json) as JsonValue) : payload,
    region: e.region,
    serverId,
    status: serverId ? 'placed' : 'pending',
    idempotencyKey: e.idempotencyKey ?? null,
  };
}
