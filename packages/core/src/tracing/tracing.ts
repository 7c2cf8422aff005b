/**
 * ctlplane's use of OpenTelemetry, in one place: the `ctlplane` tracer, the W3C trace context of
 * the active span (recorded on a new event), a stored trace context turned back into a parent or a
 * link, and spans around work. Everything goes through `@opentelemetry/api` only, and is a no-op
 * when it is not installed; with the API installed but no SDK registered, the API's own no-op
 * tracer and context manager answer (no span is recorded, no context is active).
 *
 * @internal
 * @module
 */
import type { Attributes, Context, Link, Span, SpanContext } from '@opentelemetry/api';
import type { TraceContext } from '../events/trace-context.js';
import { type OtelApi, otel } from './otel.js';

/** @internal The name of the tracer every ctlplane span comes from. */
export const TRACER_NAME = 'ctlplane';

/** @internal Most links one span gets (the SDK's default `linkCountLimit`). */
export const MAX_SPAN_LINKS = 128;

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

/** @internal The W3C trace context of the active span, or null (no API, no SDK, no span). */
export function activeTraceContext(): TraceContext | null {
  const api = otel();
  if (!api) return null;
  const sc = api.trace.getSpanContext(api.context.active());
  if (!sc) return null;
  // A span hands out the same SpanContext object for its whole life, and a caller's span often
  // creates many events: checked and encoded once per span, not once per event (the check's
  // regular expressions and the string were ~1.3 µs of each traced create).
  let tc = encoded.get(sc);
  if (tc === undefined) {
    tc = api.isSpanContextValid(sc) ? toTraceContext(sc) : null;
    encoded.set(sc, tc);
  }
  return tc;
}

/** Trace contexts of span contexts seen, by span context (collected with their spans). */
const encoded = new WeakMap<SpanContext, TraceContext | null>();

/**
 * @internal `event` with the active span's trace context added, when it names none (a `create`
 * sent over HTTP records the caller's span, not the server's). Anything else is returned as is.
 */
export function withActiveTraceContext<T>(event: T): T {
  if (typeof event !== 'object' || event === null || 'traceContext' in event) return event;
  const traceContext = activeTraceContext();
  return traceContext ? { ...event, traceContext } : event;
}

/**
 * @internal Run `fn` with `tc` as the active remote parent (no span is started): spans `fn` starts
 * are children of `tc`. Without the API, or without `tc`, `fn` runs as is.
 */
export function runInTraceContext<T>(tc: TraceContext | null | undefined, fn: () => T): T {
  const api = tc ? otel() : null;
  if (!api || !tc) return fn();
  return api.context.with(api.trace.setSpanContext(api.context.active(), toSpanContext(api, tc)), fn);
}

/**
 * @internal Add an event named `name` to the active span, if one is recording. `attributes` is
 * called only then: nothing is built in a process that does not trace.
 */
export function addSpanEvent(name: string, attributes: () => Attributes): void {
  const api = otel();
  if (!api) return;
  const span = api.trace.getSpan(api.context.active());
  if (span?.isRecording()) span.addEvent(name, attributes());
}

/**
 * @internal Start a span that is not made active, for work whose steps interleave with other
 * work's (one span per event of a scheduler batch): the caller adds events and ends it. Undefined
 * without the API; `describe` is called only with it.
 */
export function startSpan(name: string, describe: () => SpanStart): Span | undefined {
  const api = otel();
  if (!api) return undefined;
  const start = describe();
  const links = toLinks(api, start.links);
  return api.trace.getTracer(TRACER_NAME).startSpan(
    name,
    {
      ...(start.kind !== undefined ? { kind: KINDS[start.kind] } : {}),
      ...(start.root ? { root: true } : {}),
      ...(start.attributes ? { attributes: start.attributes } : {}),
      ...(links.length > 0 ? { links } : {}),
    },
    parentContext(api, start.parent ?? null),
  );
}

/** @internal Link `span` to each stored trace context (at most {@link MAX_SPAN_LINKS} in all). */
export function addLinks(span: Span | undefined, tcs: readonly (TraceContext | null)[]): void {
  const api = span ? otel() : null;
  if (!api || !span) return;
  const links = toLinks(api, tcs);
  if (links.length > 0) span.addLinks(links);
}

/** @internal The W3C trace context of `span`, or null. */
export function traceContextOfSpan(span: Span | undefined): TraceContext | null {
  const sc = span?.spanContext();
  const api = sc ? otel() : null;
  return api && sc && api.isSpanContextValid(sc) ? toTraceContext(sc) : null;
}

/** @internal A span context in the W3C format. */
export function toTraceContext(sc: SpanContext): TraceContext {
  const traceparent = `00-${sc.traceId}-${sc.spanId}-${hex2(sc.traceFlags)}`;
  const tracestate = sc.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/**
 * @internal The remote span context a stored trace context describes. The value was validated
 * when it was stored or received, so the fields are where the W3C format puts them.
 */
export function toSpanContext(api: OtelApi, tc: TraceContext): SpanContext {
  const { traceparent: p, tracestate } = tc;
  return {
    traceId: p.slice(3, 35),
    spanId: p.slice(36, 52),
    traceFlags: Number.parseInt(p.slice(53, 55), 16),
    isRemote: true,
    ...(tracestate ? { traceState: api.createTraceState(tracestate) } : {}),
  };
}

/** @internal A span's kind, by name (the API's enum is not imported where it may be missing). */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

const KINDS = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 } as const;

/** @internal How {@link withSpan} starts its span. */
export interface SpanStart {
  /** Span kind (default internal). */
  readonly kind?: SpanKindName;
  /**
   * Start a new trace instead of joining the active one: for work done for many callers at once
   * (a group commit, a relay round), which links to each caller's context instead.
   */
  readonly root?: boolean;
  /** Attributes known at the start. */
  readonly attributes?: Attributes;
  /**
   * The span's parent: a stored trace context (the span joins that trace), or omitted for the
   * active context. Null also means the active context (the event was created outside a trace).
   */
  readonly parent?: TraceContext | null;
  /** Stored trace contexts to link to (at most {@link MAX_SPAN_LINKS} are kept). */
  readonly links?: readonly (TraceContext | null)[];
}

/**
 * @internal Run `fn` inside a new span named `name`, active for everything `fn` awaits (with a
 * context manager registered), ended when `fn` settles; a rejection is recorded on the span and
 * rethrown unchanged. Without the API, `fn` runs with no span, and `describe` (the span's start:
 * attributes, links) is never called: nothing is built on the hot paths of a process that does
 * not trace.
 */
export async function withSpan<T>(
  name: string,
  describe: () => SpanStart,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  const api = otel();
  if (!api) return fn(undefined);
  const start = describe();
  const tracer = api.trace.getTracer(TRACER_NAME);
  const parent = parentContext(api, start.parent ?? null);
  const links = toLinks(api, start.links);
  const options = {
    ...(start.kind !== undefined ? { kind: KINDS[start.kind] } : {}),
    ...(start.root ? { root: true } : {}),
    ...(start.attributes ? { attributes: start.attributes } : {}),
    ...(links.length > 0 ? { links } : {}),
  };
  return tracer.startActiveSpan(name, options, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

function parentContext(api: OtelApi, tc: TraceContext | null): Context {
  const active = api.context.active();
  return tc ? api.trace.setSpanContext(active, toSpanContext(api, tc)) : active;
}

function toLinks(api: OtelApi, tcs: readonly (TraceContext | null)[] | undefined): Link[] {
  if (!tcs) return [];
  const links: Link[] = [];
  for (const tc of tcs) {
    if (links.length === MAX_SPAN_LINKS) break;
    if (tc) links.push({ context: toSpanContext(api, tc) });
  }
  return links;
}
