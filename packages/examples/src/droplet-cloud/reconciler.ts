/**
 * Gives capacity back: when a create fails or is cancelled, or a destroy is done, the droplet's
 * reservation (keyed by the create's event id, as the scheduler made it) is released from the
 * fleet. Runs next to the scheduler; at-least-once delivery is fine because release is idempotent.
 * The release also retires the key, so a scheduler that wakes up late with an old claim of the
 * create cannot reserve for it again; retired keys are forgotten after a day.
 */
import type { Fleet, Logger, MessageBus, ReleaseInput, StoredEvent, Subscription } from '@ctlplane/core';
import { followChanges } from './changes.js';

/** How long a released key stays retired: far above any scheduler lease. */
const RETIRED_FOR_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 10_000;

/** The reservation a terminal change frees, if any. */
export function releaseFor(e: StoredEvent): ReleaseInput | null {
  // Every claim of the create is at most its last one (`attempts`): retire the key up to it.
  if (e.type === 'droplet.create' && (e.status === 'failed' || e.status === 'cancelled'))
    return { key: String(e.id), fence: e.attempts };
  if (e.type === 'droplet.destroy' && e.status === 'done') {
    const id = (e.payload as { dropletId?: unknown }).dropletId;
    // The create's claims are not known here; the reservation's own fence retires the key.
    return typeof id === 'number' ? { key: String(id) } : null;
  }
  return null;
}

/** Release reservations as droplets go away. */
export class Reconciler {
  released = 0;
  readonly #fleet: Fleet;
  readonly #log: Logger;
  #sub: Subscription | null = null;
  #pruner: NodeJS.Timeout | null = null;

  constructor(fleet: Fleet, log: Logger) {
    this.#fleet = fleet;
    this.#log = log;
  }

  /** The queue's bindings; declare it in the bus topology. */
  async start(bus: MessageBus, queue: string): Promise<void> {
    this.#sub = await followChanges(bus, queue, async (e) => {
      const input = releaseFor(e);
      if (!input) return;
      const [outcome] = await this.#fleet.release([input]);
      if (outcome?.ok) this.released++;
      else this.#log.debug('nothing to release', { key: input.key });
    });
    this.#pruner = setInterval(() => void this.#prune(), PRUNE_EVERY_MS);
    this.#pruner.unref();
  }

  /** Forget fence records older than a day, a batch at a time until none is left. */
  async #prune(): Promise<void> {
    try {
      while ((await this.#fleet.pruneReleased(RETIRED_FOR_MS, PRUNE_BATCH)) === PRUNE_BATCH) {}
    } catch (err) {
      this.#log.warn('forgetting retired keys failed', { error: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    if (this.#pruner) clearInterval(this.#pruner);
    await this.#sub?.cancel();
  }
}
