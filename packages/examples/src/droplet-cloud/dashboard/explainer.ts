/**
 * Per-request placement explanations for the dashboard. Just before a request becomes an event,
 * the scheduler is asked to explain where it would go and why (filters, feasible servers, each
 * strategy's part of the best scores); the card is shown once the scheduler has placed the event
 * (with where it actually went) or failed it (with the explanation of why nothing fits).
 * Throttled, except for requests made over HTTP (the page's form).
 */
import type { Explanation, Scheduler } from '@ctlplane/core';
import type { CreateDroplet, DropletApi } from '../api.js';
import { type DropletTypes, SIZES } from '../types.js';

/** One explained request, as the dashboard shows it. */
export interface ExplainedRequest {
  readonly requestId: string;
  readonly outcome: 'placed' | 'failed';
  /** Where the scheduler placed it (null when it failed). */
  readonly serverId: string | null;
  readonly at: number;
  readonly latencyMs: number | null;
  readonly size: string | null;
  readonly explanation: Explanation;
}

interface Expected {
  readonly size: string;
  readonly explanation: Explanation;
}

/** Keeps the latest explanations. */
export class Explainer {
  readonly #latest: ExplainedRequest[] = [];
  readonly #expected = new Map<number, Expected>();
  readonly #scheduler: Scheduler<DropletTypes>;
  readonly #perSecond: number;
  readonly #keep: number;
  #budget = 0;
  #refill = 0;
  readonly #off: () => void;

  constructor(scheduler: Scheduler<DropletTypes>, perSecond = 3, keep = 12) {
    this.#scheduler = scheduler;
    this.#perSecond = perSecond;
    this.#keep = keep;
    const onPlaced = (e: { eventId: number; serverId: string; latencyMs: number }): void => {
      const x = this.#expected.get(e.eventId);
      if (!x) return;
      this.#expected.delete(e.eventId);
      this.#push({
        requestId: String(e.eventId),
        outcome: 'placed',
        serverId: e.serverId,
        latencyMs: e.latencyMs,
        ...x,
      });
    };
    const onFailed = (e: { eventId: number; explanation: Explanation | null }): void => {
      const x = this.#expected.get(e.eventId);
      this.#expected.delete(e.eventId);
      if (!e.explanation) return;
      const size = x?.size ?? null;
      this.#push({
        requestId: String(e.eventId),
        outcome: 'failed',
        serverId: null,
        latencyMs: null,
        size,
        explanation: e.explanation,
      });
    };
    scheduler.on('scheduler:placed', onPlaced);
    scheduler.on('scheduler:failed', onFailed);
    this.#off = () => {
      scheduler.off('scheduler:placed', onPlaced);
      scheduler.off('scheduler:failed', onFailed);
    };
  }

  /** An API whose creates are explained first: every one (`always`) or a few per second. */
  wrap(api: DropletApi, always: boolean): DropletApi {
    return {
      create: async (request: CreateDroplet) => {
        const explanation = always || this.#take() ? await this.#preview(request) : null;
        const droplet = await api.create(request);
        if (explanation) this.#expect(droplet.id, request.size ?? 's-1vcpu-1gb', explanation);
        return droplet;
      },
      destroy: (id) => api.destroy(id),
      getMany: (ids) => api.getMany(ids),
    };
  }

  /** The latest explanations, newest first. */
  latest(): readonly ExplainedRequest[] {
    return this.#latest;
  }

  stop(): void {
    this.#off();
  }

  #take(): boolean {
    const now = Date.now();
    if (now - this.#refill >= 1_000) {
      this.#refill = now;
      this.#budget = this.#perSecond;
    }
    return this.#budget-- > 0;
  }

  async #preview(request: CreateDroplet): Promise<Explanation | null> {
    const size = SIZES[request.size ?? 's-1vcpu-1gb'];
    if (!size) return null;
    return this.#scheduler.explain({ id: 'preview', region: request.region, demand: size }).catch(() => null);
  }

  #expect(id: number, size: string, explanation: Explanation): void {
    this.#expected.set(id, { size, explanation });
    if (this.#expected.size > 1_000) this.#expected.delete(this.#expected.keys().next().value as number);
  }

  #push(x: Omit<ExplainedRequest, 'at'>): void {
    this.#latest.unshift({ ...x, at: Date.now() });
    this.#latest.length = Math.min(this.#latest.length, this.#keep);
  }
}
