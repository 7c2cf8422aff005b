/**
 * Gives capacity back: when a create fails or is cancelled, or a destroy is done, the droplet's
 * reservation (keyed by the create's event id, as the scheduler made it) is released from the
 * fleet. Runs next to the scheduler; at-least-once delivery is fine because release is idempotent.
 */
import type { Fleet, Logger, MessageBus, StoredEvent, Subscription } from '@ctlplane/core';
import { followChanges } from './changes.js';

/** The reservation a terminal change frees, if any. */
export function releasedKey(e: StoredEvent): string | null {
  if (e.type === 'droplet.create' && (e.status === 'failed' || e.status === 'cancelled')) return String(e.id);
  if (e.type === 'droplet.destroy' && e.status === 'done') {
    const id = (e.payload as { dropletId?: unknown }).dropletId;
    return typeof id === 'number' ? String(id) : null;
  }
  return null;
}

/** Release reservations as droplets go away. */
export class Reconciler {
  released = 0;
  readonly #fleet: Fleet;
  readonly #log: Logger;
  #sub: Subscription | null = null;

  constructor(fleet: Fleet, log: Logger) {
    this.#fleet = fleet;
    this.#log = log;
  }

  /** The queue's bindings; declare it in the bus topology. */
  async start(bus: MessageBus, queue: string): Promise<void> {
    this.#sub = await followChanges(bus, queue, async (e) => {
      const key = releasedKey(e);
      if (!key) return;
      const [outcome] = await this.#fleet.release([key]);
      if (outcome?.ok) this.released++;
      else this.#log.debug('nothing to release', { key });
    });
  }

  async stop(): Promise<void> {
    await this.#sub?.cancel();
  }
}
