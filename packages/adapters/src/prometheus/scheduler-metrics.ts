/**
 * Scheduler metrics: placements and their latency, retries, failures, conflicts, errors, and the
 * events held.
 *
 * @internal
 * @module
 */
import type { EventTypeMap, Scheduler, SchedulerEvents } from '@ctlplane/core';
import { LATENCY_BUCKETS } from './buckets.js';
import { type Families, subscribe } from './families.js';

/** @internal */
export function observeScheduler<M extends EventTypeMap>(
  f: Families,
  scheduler: Scheduler<M>,
  buckets: readonly number[] = LATENCY_BUCKETS,
): () => void {
  const placed = f.counter('scheduler_placements_total', 'Events placed on a server.');
  const latency = f.histogram(
    'scheduler_placement_latency_seconds',
    'From claiming a pending event to recording its placement (retries included).',
    buckets,
  );
  const failed = f.counter(
    'scheduler_failures_total',
    'Events failed because nothing fit after the last try.',
  );
  const retried = f.counter('scheduler_retries_total', 'Placement tries postponed with backoff.');
  const conflicts = f.counter(
    'scheduler_conflicts_total',
    'Reservations lost or placements refused, by reason.',
    ['reason'],
  );
  const errors = f.counter('scheduler_errors_total', 'Failures outside a single placement, by operation.', [
    'operation',
  ]);
  const held = f.sampled('gauge', 'scheduler_held_events', 'Events claimed and not yet placed or failed.');
  placed.inc(0);
  failed.inc(0);
  retried.inc(0);
  const removeHeld = held.add({}, () => scheduler.stats().held);
  const off = subscribe<SchedulerEvents>(scheduler, {
    'scheduler:placed': (e) => {
      placed.inc();
      latency.observe(e.latencyMs / 1_000);
    },
    'scheduler:failed': () => failed.inc(),
    'scheduler:retried': () => retried.inc(),
    'scheduler:conflict': (e) => conflicts.inc({ reason: e.reason }),
    'scheduler:error': (e) => errors.inc({ operation: e.operation }),
  });
  return () => {
    off();
    removeHeld();
  };
}
