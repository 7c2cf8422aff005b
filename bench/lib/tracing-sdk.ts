/**
 * The OpenTelemetry SDK a traced benchmark run registers: a BasicTracerProvider with a
 * BatchSpanProcessor into an InMemorySpanExporter, and the AsyncLocalStorage context manager.
 * The exporter is emptied every 250 ms (a run ends millions of spans), counting what it held.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * Register the SDK; `stop()` unregisters it and returns how many spans were exported.
 *
 * @param options.contextOnly - register the context manager alone, no tracer provider: what the
 *   runtime's async context tracking costs by itself (no span is recorded, by anyone)
 */
export function registerTracing(options: { contextOnly?: boolean } = {}) {
  const exporter = new InMemorySpanExporter();
  const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, maxExportBatchSize: 4_096 });
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (!options.contextOnly) trace.setGlobalTracerProvider(provider);
  let spans = 0;
  const drain = () => {
    spans += exporter.getFinishedSpans().length;
    exporter.reset();
  };
  const timer = setInterval(drain, 250);
  const tracer = trace.getTracer('bench');
  return {
    /** Run `fn` in a new active span. */
    inSpan: (fn: () => Promise<void>) =>
      tracer.startActiveSpan('bench.create', async (span) => {
        try {
          await fn();
        } finally {
          span.end();
        }
      }),
    /** Flush, unregister, and count. */
    stop: async (): Promise<number> => {
      clearInterval(timer);
      await provider.forceFlush();
      drain();
      await provider.shutdown();
      trace.disable();
      context.disable();
      return spans;
    },
  };
}
