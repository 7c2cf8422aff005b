/**
 * Default histogram buckets.
 *
 * @module
 */

/** Latency buckets in seconds, 1 ms to 30 s. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]);

/** Batch-size buckets, 1 to 5,000 items. */
export const BATCH_BUCKETS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 5_000,
]);
