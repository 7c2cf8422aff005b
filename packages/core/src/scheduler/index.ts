/**
 * Scheduler V2: metrics sources, filters, strategies and the placement pipeline.
 *
 * @module
 */

export {
  type AntiAffinityScope,
  antiAffinityFilter,
  capacityFilter,
  labelsFilter,
  metricsFreshFilter,
  regionFilter,
  stateFilter,
} from './filters/builtin.js';
export {
  type PrometheusParseResult,
  parsePrometheusText,
  seriesKey,
} from './metrics/prometheus-text.js';
export { PushMetricsSource, type PushMetricsSourceOptions } from './metrics/push-source.js';
export {
  PrometheusScraper,
  type PrometheusScraperOptions,
  type ScrapeRound,
  type ScraperEvents,
  type ScrapeTarget,
} from './metrics/scraper.js';
export {
  combineMetricsSources,
  type MetricsSample,
  type MetricsSource,
  type StalenessPolicy,
} from './metrics/source.js';
export {
  type CandidateReport,
  type Explanation,
  type FilterReport,
  type StrategyContribution,
  summarise,
} from './pipeline/explain.js';
export { type DryRunPlacement, PlacementPipeline } from './pipeline/pipeline.js';
export type {
  CandidateServer,
  Filter,
  PlacementRequest,
  RequestView,
  SchedulingContext,
  Strategy,
} from './pipeline/types.js';
export type { SchedulerEvents } from './runtime/events.js';
export type { PipelineOptions, SchedulerOptions } from './runtime/options.js';
export type { RequestSpec } from './runtime/request-spec.js';
export { Scheduler, type SchedulerStats } from './runtime/scheduler.js';
export type { SchedulerStore } from './scheduler-store.js';
export {
  type AllocationStrategyOptions,
  balancedAllocation,
  leastAllocated,
  mostAllocated,
} from './strategies/allocation.js';
export {
  type AntiAffinityOptions,
  antiAffinity,
  type LiveLoadOptions,
  liveLoad,
} from './strategies/live-load.js';
