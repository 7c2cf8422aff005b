/**
 * Following every committed change on the bus, as Harpoon's outbox relay publishes it: used by the
 * reconciler (capacity release) and the dashboard (counts per status).
 */
import {
  ALL_EVENTS_PATTERN,
  type MessageBus,
  type StoredEvent,
  type Subscription,
  wireEventSchema,
} from '@ctlplane/core';

/** Subscribe `queue` to every changed event; malformed messages are dead-lettered. */
export function followChanges(
  bus: MessageBus,
  queue: string,
  onChange: (event: StoredEvent) => void | Promise<void>,
): Promise<Subscription> {
  return bus.subscribe({ queue, bindings: [ALL_EVENTS_PATTERN], prefetch: 64 }, async (delivery) => {
    const parsed = wireEventSchema.safeParse(delivery.message.body);
    if (!parsed.success) {
      delivery.reject();
      return;
    }
    await onChange(parsed.data as StoredEvent);
  });
}
