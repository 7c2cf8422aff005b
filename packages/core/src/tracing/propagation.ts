/**
 * The W3C trace context on the wire, wherever ctlplane carries it outside an event's body: bus
 * message headers (`traceparent`, `tracestate`, as the W3C's AMQP and HTTP drafts name them) and
 * Harpoon's HTTP headers. What arrives is parsed with {@link traceContextSchema}; a malformed
 * value is ignored, as the W3C asks of a receiver (the work goes on, outside the caller's trace).
 *
 * @module
 */
import type { BusHeaders, BusMessage, HeaderValue } from '../bus/message-bus.js';
import { isTraceContext, type TraceContext, traceContextSchema } from '../events/trace-context.js';

/** The header that carries the W3C `traceparent` on a bus message and an HTTP request. */
export const TRACEPARENT_HEADER = 'traceparent';
/** The header that carries the W3C `tracestate` on a bus message and an HTTP request. */
export const TRACESTATE_HEADER = 'tracestate';

/**
 * The headers that carry `tc`: none for null.
 *
 * @example
 * ```ts
 * await bus.publish({ routingKey, body, headers: { ...traceHeaders(event.traceContext) } });
 * ```
 */
export function traceHeaders(tc: TraceContext | null | undefined): Record<string, string> {
  if (!tc) return {};
  return tc.tracestate === undefined
    ? { [TRACEPARENT_HEADER]: tc.traceparent }
    : { [TRACEPARENT_HEADER]: tc.traceparent, [TRACESTATE_HEADER]: tc.tracestate };
}

/**
 * The trace context that headers carry, or null when they carry none or a malformed one (a
 * malformed `tracestate` alone is dropped and the `traceparent` kept, as the W3C asks).
 *
 * @param headers - bus headers, or HTTP headers (Node's lower-cased `IncomingHttpHeaders`)
 */
export function traceContextFromHeaders(
  headers: BusHeaders | Readonly<Record<string, HeaderValue | readonly string[] | undefined>>,
): TraceContext | null {
  const traceparent = headers[TRACEPARENT_HEADER];
  if (typeof traceparent !== 'string') return null;
  const tracestate = headers[TRACESTATE_HEADER];
  const tc = typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
  // A well-formed context (every delivery of a traced publisher's) skips zod.
  if (isTraceContext(tc)) return tc;
  const full = traceContextSchema.safeParse(tc);
  if (full.success) return full.data;
  const bare = traceContextSchema.safeParse({ traceparent });
  return bare.success ? bare.data : null;
}

/**
 * The trace context a bus message carries in its headers (the publisher's), or null.
 *
 * @example
 * ```ts
 * await bus.subscribe({ queue: 'audit', bindings: ['#'] }, (d) => {
 *   const parent = traceContextOf(d.message); // e.g. to link a span of your own
 * });
 * ```
 */
export function traceContextOf(message: Pick<BusMessage, 'headers'>): TraceContext | null {
  return traceContextFromHeaders(message.headers);
}
