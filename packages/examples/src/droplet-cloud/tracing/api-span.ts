/**
 * The span a droplet's trace starts with: the API's handling of a create or destroy request. The
 * event Harpoon appends inside it records it as its trace context, so every later step of the
 * request (Harpoon, the scheduler, the router, the agent), in whatever process, joins its trace.
 * Without a registered SDK the API's no-op tracer answers and nothing is recorded.
 */
import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = () => trace.getTracer('droplet-cloud');

/** Run `fn` in an active server span `name`; `fn` returns the event id it created, if any. */
export function apiSpan<T extends { id: number }>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, async (span) => {
    try {
      const out = await fn();
      span.setAttribute('ctlplane.event.id', out.id);
      return out;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
