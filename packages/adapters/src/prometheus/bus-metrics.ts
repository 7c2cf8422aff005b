/**
 * MessageBus metrics: confirmed publishes, redeliveries, dead letters, handler failures and the
 * broker connection.
 *
 * @internal
 * @module
 */
import type { MessageBus, MessageBusEvents } from '@ctlplane/core';
import { type Families, subscribe } from './families.js';

/** @internal */
export function observeBus(f: Families, bus: MessageBus): () => void {
  const name = bus.name;
  const published = f.counter('bus_published_total', 'Messages confirmed by the broker.', ['bus']);
  const redelivered = f.counter('bus_redelivered_total', 'Messages delivered again.', ['bus']);
  const dead = f.counter('bus_dead_lettered_total', 'Messages dead-lettered, by reason.', ['bus', 'reason']);
  const failures = f.counter(
    'bus_handler_failures_total',
    'Handlers that threw (the delivery was requeued).',
    ['bus'],
  );
  const reconnects = f.counter('bus_reconnect_attempts_total', 'Attempts to reconnect to the broker.', [
    'bus',
  ]);
  const connected = f.gauge('bus_connected', 'Whether the bus is connected to its broker (1) or not (0).', [
    'bus',
  ]);
  published.inc({ bus: name }, 0);
  connected.set({ bus: name }, bus.capabilities.multiProcess ? 0 : 1);
  void bus.ready().then(
    () => connected.set({ bus: name }, 1),
    () => {},
  );
  return subscribe<MessageBusEvents>(bus, {
    'bus:published': (e) => published.inc({ bus: name }, e.count),
    'bus:redelivered': () => redelivered.inc({ bus: name }),
    'bus:dead-lettered': (e) => dead.inc({ bus: name, reason: e.reason }),
    'bus:handler:failed': () => failures.inc({ bus: name }),
    'bus:reconnecting': () => reconnects.inc({ bus: name }),
    'bus:connected': () => connected.set({ bus: name }, 1),
    'bus:disconnected': () => connected.set({ bus: name }, 0),
    'bus:closed': () => connected.set({ bus: name }, 0),
  });
}
