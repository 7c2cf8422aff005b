/**
 * `@ctlplane/adapters/prometheus`: Prometheus metrics from the typed events of ctlplane components,
 * on prom-client (an optional peer dependency: `npm install prom-client`).
 *
 * @packageDocumentation
 */
export { BATCH_BUCKETS, LATENCY_BUCKETS } from './buckets.js';
export { CtlplaneMetrics, type CtlplaneMetricsOptions } from './ctlplane-metrics.js';
