/**
 * What happens to an event after a placement try: placed and dropped events are done; an event
 * that fit nowhere waits (its lease renewed when needed) and is tried again with backoff, or — after
 * its last try — is moved to `failed` with the explanation of why nothing fits.
 *
 * @internal
 * @module
 */
import type { EventEmitter } from 'eventemitter3';
import type { StoredEvent, TransitionInput, TransitionOutcome } from '../../events/model.js';
import type { ReleaseInput } from '../../fleet/model.js';
import { backoffDelay } from '../../retry.js';
import { MAX_LEASE_MS } from '../../validation.js';
import type { Explanation } from '../pipeline/explain.js';
import type { PlacementPipeline } from '../pipeline/pipeline.js';
import type { SchedulerEvents } from './events.js';
import type { HeldEvent, PlaceResult } from './placement.js';

/** @internal What outcome handling needs of the EventStore. */
export interface OutcomeStore {
  transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]>;
  renew(id: number, owner: string, leaseMs: number): Promise<StoredEvent>;
  release(id: number, owner: string): Promise<StoredEvent>;
}

/** @internal */
export interface OutcomeDeps {
  readonly store: OutcomeStore;
  readonly pipeline: PlacementPipeline;
  readonly events: EventEmitter<SchedulerEvents>;
  readonly owner: string;
  readonly attempts: number;
  readonly leaseMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /** Enqueue a batch for another try. */
  readonly retry: (held: HeldEvent[]) => void;
  /** Release reservations (of events moved to `failed`: one kept from an earlier claim may remain). */
  readonly release: (inputs: ReleaseInput[]) => Promise<void>;
  /** An event is settled for good (placed, failed or given up). */
  readonly done: (count: number) => void;
  readonly stopping: () => boolean;
  readonly onError: (operation: string, error: unknown) => void;
}

/** @internal Counters. */
export interface Counters {
  placed: number;
  failed: number;
  retried: number;
}

/** @internal */
export class Outcomes {
  readonly #d: OutcomeDeps;
  readonly #waiting = new Map<number, { timer: NodeJS.Timeout; held: HeldEvent }>();
  /** Waits that are over, their leases being checked before the retry. */
  readonly #resuming = new Set<Promise<void>>();
  readonly counters: Counters = { placed: 0, failed: 0, retried: 0 };

  constructor(deps: OutcomeDeps) {
    this.#d = deps;
  }

  /** Settle the results of one batch try. */
  async handle(helds: readonly HeldEvent[], results: readonly PlaceResult[]): Promise<void> {
    const failing: { held: HeldEvent; reason: string }[] = [];
    let settled = 0;
    for (const [i, held] of helds.entries()) {
      const r = results[i]!;
      if (r.kind === 'placed') this.counters.placed++;
      if (r.kind !== 'nofit') settled++;
      else if (held.attempt >= this.#d.attempts || this.#d.stopping())
        failing.push({ held, reason: r.reason });
      else await this.#later(held, r.reason);
    }
    if (settled > 0) this.#d.done(settled);
    if (failing.length > 0) await this.fail(failing);
  }

  /** Move events to `failed`, each with an explanation (or a given reason when there is none). */
  async fail(items: readonly { held?: HeldEvent; event?: StoredEvent; reason: string }[]): Promise<void> {
    const rows = items.map((it) => {
      const event = (it.held?.event ?? it.event)!;
      const explanation: Explanation | null = it.held ? this.#d.pipeline.explain(it.held.request) : null;
      const reason = (
        explanation ? `${it.reason} after ${it.held!.attempt} tries: ${explanation.summary}` : it.reason
      ).slice(0, 60_000);
      return { event, reason, explanation };
    });
    const failed: ReleaseInput[] = [];
    try {
      const outs = await this.#d.store.transitionMany(
        rows.map(({ event, reason }) => ({
          id: event.id,
          from: 'pending' as const,
          to: 'failed' as const,
          version: event.version,
          leaseOwner: this.#d.owner,
          error: reason,
        })),
      );
      for (const [i, row] of rows.entries()) {
        const o = outs[i]!;
        if (!o.ok) {
          this.#d.onError('fail', o.error);
          continue;
        }
        this.counters.failed++;
        failed.push({ key: String(row.event.id), fence: row.event.attempts });
        this.#d.events.emit('scheduler:failed', {
          eventId: row.event.id,
          reason: row.reason,
          explanation: row.explanation,
        });
      }
    } catch (err) {
      this.#d.onError('fail', err);
    }
    // A failed event never runs: free (and retire) any reservation of it, this claim's or older.
    if (failed.length > 0)
      await this.#d.release(failed).catch((err: unknown) => this.#d.onError('release', err));
    this.#d.done(rows.length);
  }

  /** Hand back every event waiting for a retry (on stop): release their leases. */
  async handBack(): Promise<void> {
    // Timers first, so none fires while the waits already over are awaited (they see `stopping`).
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of waiting) clearTimeout(w.timer);
    while (this.#resuming.size > 0) await Promise.all(this.#resuming);
    await Promise.all(
      waiting.map((w) => this.#d.store.release(w.held.event.id, this.#d.owner).catch(() => undefined)),
    );
    if (waiting.length > 0) this.#d.done(waiting.length);
  }

  async #later(held: HeldEvent, reason: string): Promise<void> {
    const delayMs = backoffDelay(held.attempt - 1, this.#d.backoff);
    this.counters.retried++;
    this.#d.events.emit('scheduler:retried', {
      eventId: held.event.id,
      attempt: held.attempt,
      delayMs,
      reason,
    });
    if (!(await this.#keepLease(held, delayMs))) return this.#d.done(1);
    held.attempt++;
    const timer = setTimeout(() => {
      this.#waiting.delete(held.event.id);
      const resuming = this.#resume(held).finally(() => this.#resuming.delete(resuming));
      this.#resuming.add(resuming);
    }, delayMs);
    timer.unref();
    this.#waiting.set(held.event.id, { timer, held });
  }

  /**
   * A wait is over: check the lease again before the retry. The process may have been paused (or
   * the wait outlasted the lease), and another instance may hold a newer claim of the event by now:
   * a retry on the old claim would reserve for a decision that is no longer this instance's.
   */
  async #resume(held: HeldEvent): Promise<void> {
    if (this.#d.stopping()) {
      await this.#d.store.release(held.event.id, this.#d.owner).catch(() => undefined);
      return this.#d.done(1);
    }
    if (await this.#keepLease(held, 0)) return this.#d.retry([held]);
    this.#d.done(1);
  }

  /**
   * Renew the lease when it would run out during the wait, for long enough to cover it (a backoff
   * may be longer than the lease); false when it was lost.
   */
  async #keepLease(held: HeldEvent, delayMs: number): Promise<boolean> {
    const expires = held.event.leaseExpiresAt?.getTime() ?? 0;
    if (expires - Date.now() > delayMs + this.#d.leaseMs / 4) return true;
    try {
      const leaseMs = Math.min(MAX_LEASE_MS, Math.max(this.#d.leaseMs, delayMs + this.#d.leaseMs / 2));
      held.event = await this.#d.store.renew(held.event.id, this.#d.owner, Math.round(leaseMs));
      return true;
    } catch (err) {
      this.#d.onError('renew', err);
      return false;
    }
  }
}
