/**
 * `--trace`: register the OpenTelemetry SDK in this process before any component starts, as an
 * application using ctlplane would (ctlplane itself only calls `@opentelemetry/api`). The SDK is
 * loaded only when tracing is asked for, so an untraced run loads none of it.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { CloudOptions } from '../cli.js';
import { JsonLinesExporter, SpanRing } from './exporters.js';

/** The SDK registered in this process. */
export interface Tracing {
  /** `service.name` of this process: `droplet-cloud-<role>`, or `droplet-cloud` for everything in one. */
  readonly service: string;
  /** Finished spans kept in memory. */
  readonly ring: SpanRing;
  /** Export what is still buffered, then unregister the SDK. */
  shutdown(): Promise<void>;
}

/** The service name of a role's process. */
export const serviceName = (role: CloudOptions['role']): string =>
  role === 'all' ? 'droplet-cloud' : `droplet-cloud-${role}`;

/** Register the SDK when `o.trace` asks for it; null otherwise. */
export async function startTracing(
  o: Pick<CloudOptions, 'trace' | 'traceFile' | 'role'>,
): Promise<Tracing | null> {
  if (!o.trace) return null;
  const [api, hooks, sdk, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  const service = serviceName(o.role);
  const ring = new SpanRing();
  const spanProcessors: SpanProcessor[] = [new sdk.SimpleSpanProcessor(ring)];
  if (o.traceFile) {
    spanProcessors.push(
      new sdk.BatchSpanProcessor(new JsonLinesExporter(o.traceFile), {
        scheduledDelayMillis: 500,
        maxQueueSize: 20_000,
        maxExportBatchSize: 1_000,
      }),
    );
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes({
      'service.name': service,
      'service.namespace': 'droplet-cloud',
      'process.pid': process.pid,
      'process.runtime.name': 'nodejs',
      'process.runtime.version': process.versions.node,
    }),
    spanProcessors,
  });
  // Without the AsyncLocalStorage context manager no span stays active across an `await`.
  const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.trace.setGlobalTracerProvider(provider);
  return {
    service,
    ring,
    shutdown: async () => {
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
    },
  };
}
