/**
 * Harpoon and outbox relay metrics: group-commit batches, refusals, queue depth, relay progress
 * and outbox lag.
 *
 * @internal
 * @module
 */
import type { EventTypeMap, Harpoon, HarpoonEvents, OutboxRelay, OutboxRelayEvents } from '@ctlplane/core';
import { BATCH_BUCKETS, LATENCY_BUCKETS } from './buckets.js';
import { type Families, subscribe } from './families.js';

/** @internal Relay events, from a Harpoon (which re-emits its relay's) or an OutboxRelay. */
export function observeRelayEvents(f: Families, emitter: object, cursor: () => number): () => void {
  const published = f.counter(
    'relay_published_total',
    'Changes the outbox relay published (broker-confirmed).',
  );
  const errors = f.counter(
    'relay_errors_total',
    'Relay rounds that failed and were retried from the saved cursor.',
  );
  const parked = f.counter(
    'relay_parked_total',
    'Changes the outbox relay parked because the bus can never publish them (listed by parkedChanges()).',
  );
  const lag = f.histogram(
    'outbox_lag_seconds',
    'Age of the oldest change of each published page when the broker confirmed it.',
    LATENCY_BUCKETS,
  );
  const position = f.sampled('gauge', 'relay_cursor', 'The feed position the relay has published and saved.');
  published.inc(0);
  errors.inc(0);
  parked.inc(0);
  const removeCursor = position.add({}, cursor);
  const off = subscribe<OutboxRelayEvents>(emitter, {
    'relay:published': (e) => {
      published.inc(e.count);
      lag.observe(e.oldestMs / 1_000);
    },
    'relay:error': () => errors.inc(),
    'relay:parked': () => parked.inc(),
  });
  return () => {
    off();
    removeCursor();
  };
}

/** @internal */
export function observeHarpoon<M extends EventTypeMap>(f: Families, harpoon: Harpoon<M>): () => void {
  const batches = f.counter('harpoon_batches_total', 'Group-committed transactions, by request kind.', [
    'kind',
  ]);
  const size = f.histogram(
    'harpoon_batch_requests',
    'Requests per group-committed transaction.',
    BATCH_BUCKETS,
    ['kind'],
  );
  const duration = f.histogram(
    'harpoon_batch_duration_seconds',
    'Time of one group-committed transaction.',
    LATENCY_BUCKETS,
    ['kind'],
  );
  const busy = f.counter('harpoon_busy_total', 'Requests refused because the queue was full.', ['kind']);
  const pending = f.sampled('gauge', 'harpoon_pending_requests', 'Requests queued or in flight in Harpoon.');
  const backlog = f.sampled(
    'gauge',
    'outbox_lag_changes',
    'Changes committed but not yet published by the relay.',
  );
  const removers = [
    pending.add({}, () => harpoon.stats.pending),
    backlog.add({}, () => harpoon.relayLag()),
    observeRelayEvents(f, harpoon, () => harpoon.stats.relayCursor),
    subscribe<HarpoonEvents>(harpoon, {
      'harpoon:batch': (e) => {
        batches.inc({ kind: e.kind });
        size.observe({ kind: e.kind }, e.size);
        duration.observe({ kind: e.kind }, e.ms / 1_000);
      },
      'harpoon:busy': (e) => busy.inc({ kind: e.kind }),
    }),
  ];
  return () => {
    for (const r of removers) r();
  };
}

/** @internal */
export function observeRelay(f: Families, relay: OutboxRelay): () => void {
  const backlog = f.sampled(
    'gauge',
    'outbox_lag_changes',
    'Changes committed but not yet published by the relay.',
  );
  const removers = [backlog.add({}, () => relay.lag()), observeRelayEvents(f, relay, () => relay.cursor)];
  return () => {
    for (const r of removers) r();
  };
}
