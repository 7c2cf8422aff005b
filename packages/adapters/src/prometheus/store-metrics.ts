/**
 * EventStore metrics: appends, transitions by target status, claims and retries.
 *
 * @internal
 * @module
 */
import type { EventStore, EventStoreEvents, EventTypeMap } from '@ctlplane/core';
import { type Families, subscribe } from './families.js';

/** @internal */
export function observeStore<M extends EventTypeMap>(
  f: Families,
  store: EventStore<M>,
  name: string,
): () => void {
  const appended = f.counter(
    'store_appended_events_total',
    'Events appended (idempotent replays included).',
    ['store'],
  );
  const transitions = f.counter(
    'store_transitions_total',
    'Status changes applied, by the status events moved to: the events-by-status counter.',
    ['store', 'status'],
  );
  const claimed = f.counter('store_claimed_events_total', 'Events handed out by claims.', ['store']);
  const empty = f.counter('store_claims_empty_total', 'Claims that found nothing to do.', ['store']);
  const retries = f.counter('store_retries_total', 'Transient backend failures retried.', [
    'store',
    'operation',
  ]);
  appended.inc({ store: name }, 0);
  return subscribe<EventStoreEvents>(store, {
    'store:appended': (e) => appended.inc({ store: name }, e.count),
    'store:transitioned': (e) => transitions.inc({ store: name, status: e.to }),
    'store:claimed': (e) => claimed.inc({ store: name }, e.count),
    'store:claim:empty': () => empty.inc({ store: name }),
    'store:retry': (e) => retries.inc({ store: name, operation: e.operation }),
  });
}
