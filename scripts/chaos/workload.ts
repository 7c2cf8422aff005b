/**
 * The chaos run's request stream: `requests` droplet creates at `rate` per second through the
 * public API, each with its own request id, retried (with the same id, so at most one event is
 * ever made of it) until the API accepts it; and a destroy of some of the droplets that booted.
 * What the API acknowledged is the ledger the checker holds the database to.
 */
import { ConflictError, isCtlplaneError, NotFoundError, sleep, ValidationError } from '@ctlplane/core';
import type { DropletClient } from '../../packages/examples/src/droplet-cloud/api-client.js';
import { pick, seeded } from '../../packages/examples/src/droplet-cloud/random.js';
import type { SizeSlug } from '../../packages/examples/src/droplet-cloud/types.js';
import { REGIONS } from './deployment.js';

/** The size mix: mostly small droplets, so 500 servers hold the whole stream with some churn. */
const MIX: readonly SizeSlug[] = [
  ...Array<SizeSlug>(8).fill('s-1vcpu-1gb'),
  ...Array<SizeSlug>(6).fill('s-2vcpu-4gb'),
  ...Array<SizeSlug>(3).fill('s-4vcpu-8gb'),
  ...Array<SizeSlug>(2).fill('g-8vcpu-32gb'),
  'm-16vcpu-128gb',
];

/** A request the API acknowledged. */
export interface Accepted {
  readonly requestId: string;
  readonly id: number;
  readonly size: SizeSlug;
  readonly region: string;
}

/** Counters of the stream. */
export interface WorkloadCounts {
  /** Create requests the API acknowledged (an event id came back). */
  accepted: number;
  /** Attempts refused by the API or unreachable, retried. */
  retries: number;
  /** Requests given up (refused for good, or not accepted before the deadline). */
  abandoned: number;
  /** Destroys acknowledged. */
  destroys: number;
}

/**
 * Requests in flight at once. Clients of a real API are bounded too; unbounded, a stream that
 * keeps coming while the API is down piles up thousands of sockets in fetch's connection pool,
 * whose cost grows with its size, and the client (not the system under test) stalls.
 */
const MAX_IN_FLIGHT = 256;

/** Drives the API. */
export class ChaosWorkload {
  readonly accepted = new Map<string, Accepted>();
  /** Destroy event ids by droplet (create event) id. */
  readonly destroys = new Map<number, number>();
  readonly counts: WorkloadCounts = { accepted: 0, retries: 0, abandoned: 0, destroys: 0 };
  /** Why requests were refused, retried or abandoned, with counts. */
  readonly refusals = new Map<string, number>();
  readonly #api: DropletClient;
  readonly #o: { requests: number; rate: number; seed: number; destroyRatio: number };
  readonly #random: () => number;
  readonly #pending = new Set<Promise<void>>();
  readonly #destroyAsked = new Set<number>();
  #deadline = Number.POSITIVE_INFINITY;
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(api: DropletClient, o: { requests: number; rate: number; seed: number; destroyRatio: number }) {
    this.#api = api;
    this.#o = o;
    this.#random = seeded(o.seed);
  }

  /** Issue every create at the rate; resolves once all are issued (not yet accepted). */
  async issue(): Promise<void> {
    const started = Date.now();
    for (let n = 0; n < this.#o.requests; n++) {
      const due = started + (n * 1_000) / this.#o.rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const size = pick(MIX, this.#random);
      const region = pick(REGIONS, this.#random);
      this.#track(this.#create(`chaos-${this.#o.seed}-${n}`, size, region));
    }
  }

  /** Wait for every request under way; retries stop at `deadline` (epoch ms). */
  async drain(deadline: number): Promise<void> {
    this.#deadline = deadline;
    while (this.#pending.size > 0) await Promise.race(this.#pending);
  }

  /** A droplet booted: destroy it if the seed says so (each droplet decides once). */
  booted(id: number): void {
    if (this.#destroyAsked.has(id) || !this.#shouldDestroy(id)) return;
    this.#destroyAsked.add(id);
    this.#track(this.#destroy(id));
  }

  #shouldDestroy(id: number): boolean {
    // A hash of the seed and the id: the same droplets are destroyed whatever the order of events.
    let h = (this.#o.seed ^ Math.imul(id, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    return ((h ^ (h >>> 13)) >>> 0) / 4_294_967_296 < this.#o.destroyRatio;
  }

  async #create(requestId: string, size: SizeSlug, region: string): Promise<void> {
    const view = await this.#retry(() => this.#api.create({ region, size, requestId, name: requestId }));
    if (!view) return;
    this.accepted.set(requestId, { requestId, id: view.id, size, region });
    this.counts.accepted++;
  }

  async #destroy(id: number): Promise<void> {
    const view = await this.#retry(() => this.#api.destroy(id));
    if (!view) return;
    this.destroys.set(id, view.id);
    this.counts.destroys++;
  }

  /** One call at a time per slot: waits while {@link MAX_IN_FLIGHT} calls are under way. */
  async #bounded<T>(call: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#inFlight++;
    try {
      return await call();
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
  }

  /** Call until accepted; null when refused for good or past the deadline. */
  async #retry<T>(call: () => Promise<T>): Promise<T | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#bounded(call);
      } catch (err) {
        const code = isCtlplaneError(err) ? err.code : 'ERROR';
        const final =
          err instanceof ValidationError || err instanceof NotFoundError || err instanceof ConflictError;
        this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
        if (final || Date.now() > this.#deadline) {
          this.counts.abandoned++;
          return null;
        }
        this.counts.retries++;
        await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
      }
    }
  }

  #track(p: Promise<void>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }
}
