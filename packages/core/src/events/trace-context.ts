/**
 * The W3C trace context an event carries: the `traceparent` (and `tracestate`) of the caller that
 * created it, stored with the event so that the work it causes — in other processes, after a
 * restart, after a retry — can join the caller's trace. Plain strings in the W3C format
 * (https://www.w3.org/TR/trace-context/), so no tracing library is needed to store or carry them.
 *
 * @module
 */
import { z } from 'zod';

/** Longest `tracestate` accepted: the W3C limit a vendor must propagate (512 characters). */
export const MAX_TRACESTATE_LENGTH = 512;

/**
 * The W3C trace context of the caller that created an event.
 *
 * @example
 * ```ts
 * const traceContext = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
 * await store.append([{ type: 'droplet.create', payload, region: 'nyc1', traceContext }]);
 * ```
 */
// A type, not an interface: an event's JSON form must stay assignable to JsonValue.
export type TraceContext = {
  /**
   * `00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>`, lowercase, neither id all
   * zeros (version 00 of the W3C format).
   */
  readonly traceparent: string;
  /** Vendor entries (`key=value,key=value`), printable ASCII, at most 512 characters. */
  readonly tracestate?: string;
};

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
const PRINTABLE = /^[\x20-\x7e]+$/;

/** A W3C `traceparent` of version 00. */
export const traceparentSchema = z
  .string()
  // The length first, and alone: the regex never runs on a long string, nor adds a second issue.
  .length(55, {
    message: 'must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex> (55 characters)',
    abort: true,
  })
  .superRefine((s, ctx) => {
    const m = TRACEPARENT.exec(s);
    if (!m) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>, lowercase',
      });
    } else if (/^0+$/.test(m[1]!)) {
      ctx.addIssue({ code: 'custom', message: 'must not have an all-zero trace id' });
    } else if (/^0+$/.test(m[2]!)) {
      ctx.addIssue({ code: 'custom', message: 'must not have an all-zero parent id' });
    }
  });

/** A W3C `tracestate`: printable ASCII, 1 to 512 characters (omit it rather than send it empty). */
export const tracestateSchema = z
  .string()
  .min(1, 'must not be empty (omit it instead)')
  .max(MAX_TRACESTATE_LENGTH, { message: `must be at most ${MAX_TRACESTATE_LENGTH} characters`, abort: true })
  .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII');

/** A {@link TraceContext}; unknown fields are refused. */
export const traceContextSchema: z.ZodType<TraceContext, unknown> = z
  .object({ traceparent: traceparentSchema, tracestate: tracestateSchema.optional() })
  .strict()
  // One shape whatever came in: no `tracestate: undefined` key.
  .transform((t) => (t.tracestate === undefined ? { traceparent: t.traceparent } : t));

/**
 * True when `v` passes {@link traceContextSchema} unchanged: the same rules, checked without zod
 * (which copies the object and builds an issue list), for the paths that see a context per event
 * (rows read back, bus deliveries). Anything it refuses goes through the schema, which owns the
 * error messages.
 *
 * @example
 * ```ts
 * const tc = isTraceContext(value) ? value : traceContextSchema.parse(value);
 * ```
 */
export function isTraceContext(v: unknown): v is TraceContext {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  let keys = 0;
  for (const key in v) {
    if (key !== 'traceparent' && key !== 'tracestate') return false;
    keys++;
  }
  const { traceparent, tracestate } = v as Record<string, unknown>;
  if (typeof traceparent !== 'string' || traceparent.length !== 55) return false;
  if (!TRACEPARENT.test(traceparent)) return false;
  if (traceparent.slice(3, 35) === ZERO_TRACE_ID || traceparent.slice(36, 52) === ZERO_SPAN_ID) return false;
  // `{ traceparent, tracestate: undefined }` would parse to a copy without the key: not unchanged.
  if (keys === 1) return true;
  return (
    typeof tracestate === 'string' && tracestate.length <= MAX_TRACESTATE_LENGTH && PRINTABLE.test(tracestate)
  );
}
