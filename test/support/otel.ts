/**
 * The OpenTelemetry SDK for a test: a BasicTracerProvider exporting to memory, the AsyncLocalStorage
 * context manager, registered before each test and removed after it.
 */
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach } from 'vitest';

/** Registers the SDK around each test of the enclosing suite; returns the finished spans. */
export function useTracing() {
  const exporter = new InMemorySpanExporter();
  beforeEach(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });
  afterEach(() => {
    trace.disable();
    context.disable();
    exporter.reset();
  });
  return {
    exporter,
    /** Finished spans, optionally only those named `name`. */
    spans: (name?: string): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name),
    /** Run `fn` in a new active span of the tracer `user`. */
    inSpan: <T>(name: string, fn: (span: Span) => Promise<T>): Promise<T> =>
      trace.getTracer('user').startActiveSpan(name, async (span) => {
        try {
          return await fn(span);
        } finally {
          span.end();
        }
      }),
  };
}

/** The W3C traceparent of `span`. */
export function traceparentOf(span: Span | ReadableSpan): string {
  const sc = span.spanContext();
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags}`;
}
