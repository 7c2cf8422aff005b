/**
 * A steady stream of requests: creates at `rate` per second, destroys of booted droplets, and
 * bookkeeping of every request until it is done or failed (with its reason).
 */
import { isCtlplaneError, sleep } from '@ctlplane/core';
import type { DropletApi, DropletView } from './api.js';
import { pick, seeded } from './random.js';
import { SIZES, type SizeSlug } from './types.js';

/** Options of a {@link Workload}. */
export interface WorkloadOptions {
  readonly api: DropletApi;
  readonly regions: readonly string[];
  /** Creates per second (0: none). */
  readonly rate: number;
  /** Stop creating after this many (bounded run); unbounded without. */
  readonly total?: number | undefined;
  /** Fraction of booted droplets destroyed again. */
  readonly destroyRatio: number;
  /** Unbounded runs: destroy the oldest droplets while booted vCPUs exceed this many. */
  readonly maxBootedCpu: number;
  readonly seed: number;
}

/** The size mix of requests: mostly small droplets, now and then a big one. */
const MIX: readonly SizeSlug[] = [
  ...Array<SizeSlug>(6).fill('s-1vcpu-1gb'),
  ...Array<SizeSlug>(6).fill('s-2vcpu-4gb'),
  ...Array<SizeSlug>(4).fill('s-4vcpu-8gb'),
  ...Array<SizeSlug>(3).fill('g-8vcpu-32gb'),
  'm-16vcpu-128gb',
];

interface Outstanding {
  readonly kind: 'create' | 'destroy';
  readonly cpu: number;
  readonly since: number;
}

/** Counters of a workload. */
export interface WorkloadStats {
  created: number;
  destroyRequested: number;
  booted: number;
  destroyed: number;
  failed: number;
  cancelled: number;
  rejected: number;
  outstanding: number;
  bootedCpu: number;
  /** Failure reasons and how often each occurred. */
  failures: Map<string, number>;
  /** Milliseconds from request to done, of the last 1,000 boots. */
  bootLatencies: number[];
}

/** Drives the API. */
export class Workload {
  readonly stats: WorkloadStats = {
    ...{ created: 0, destroyRequested: 0, booted: 0, destroyed: 0, failed: 0, cancelled: 0, rejected: 0 },
    ...{ outstanding: 0, bootedCpu: 0, failures: new Map(), bootLatencies: [] },
  };
  readonly #o: WorkloadOptions;
  readonly #random: () => number;
  readonly #outstanding = new Map<number, Outstanding>();
  readonly #booted = new Map<number, number>(); // droplet id → vCPUs, oldest first
  readonly #abort = new AbortController();
  #loops: Promise<void>[] = [];
  #inFlight = 0;
  #issued = 0;

  constructor(options: WorkloadOptions) {
    this.#o = options;
    this.#random = seeded(options.seed);
  }

  /** True when a bounded run created everything and every request finished. */
  get finished(): boolean {
    const { total } = this.#o;
    return total !== undefined && this.#issued >= total && this.#quiet();
  }

  start(): void {
    if (this.#loops.length > 0) return;
    this.#loops = [this.#issueLoop(), this.#pollLoop()];
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
  }

  /** Resolves when a bounded run is finished (or the workload stops). */
  async done(): Promise<void> {
    while (!this.finished && !this.#abort.signal.aborted) await sleep(100, this.#abort.signal);
  }

  #quiet(): boolean {
    return this.#outstanding.size === 0 && this.#inFlight === 0;
  }

  async #issueLoop(): Promise<void> {
    const signal = this.#abort.signal;
    const tickMs = 100;
    let credit = 0;
    while (!signal.aborted) {
      credit += (this.#o.rate * tickMs) / 1_000;
      const { total } = this.#o;
      while (credit >= 1 && (total === undefined || this.#issued < total)) {
        credit--;
        this.#issued++;
        void this.#create();
      }
      if (total === undefined) {
        for (const [id, cpu] of this.#booted) {
          if (this.stats.bootedCpu <= this.#o.maxBootedCpu) break;
          this.#booted.delete(id);
          this.stats.bootedCpu -= cpu;
          void this.#destroy(id);
        }
      }
      await sleep(tickMs, signal);
    }
  }

  async #create(): Promise<void> {
    const size = pick(MIX, this.#random);
    const region = pick(this.#o.regions, this.#random);
    await this.#request(async () => {
      const d = await this.#o.api.create({ region, size, image: 'ubuntu-24-04-x64' });
      this.stats.created++;
      this.#outstanding.set(d.id, { kind: 'create', cpu: SIZES[size].cpu, since: Date.now() });
      this.stats.outstanding = this.#outstanding.size;
    });
  }

  async #destroy(id: number): Promise<void> {
    await this.#request(async () => {
      const d = await this.#o.api.destroy(id);
      this.stats.destroyRequested++;
      this.#outstanding.set(d.id, { kind: 'destroy', cpu: 0, since: Date.now() });
      this.stats.outstanding = this.#outstanding.size;
    });
  }

  async #request(fn: () => Promise<void>): Promise<void> {
    this.#inFlight++;
    try {
      await fn();
    } catch (err) {
      this.stats.rejected++;
      this.#fail(isCtlplaneError(err) ? `rejected: ${err.code}` : `rejected: ${(err as Error).message}`);
    } finally {
      this.#inFlight--;
    }
  }

  async #pollLoop(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const ids = [...this.#outstanding.keys()];
      for (let i = 0; i < ids.length && !signal.aborted; i += 200) {
        try {
          for (const d of await this.#o.api.getMany(ids.slice(i, i + 200))) this.#settle(d);
        } catch {
          // The API is unreachable for a moment; the next round asks again.
        }
      }
      await sleep(250, signal);
    }
  }

  #settle(d: DropletView): void {
    const o = this.#outstanding.get(d.id);
    if (!o || !['done', 'failed', 'cancelled'].includes(d.status)) return;
    this.#outstanding.delete(d.id);
    this.stats.outstanding = this.#outstanding.size;
    if (d.status === 'failed') this.stats.failed++;
    if (d.status === 'failed') this.#fail(d.error ?? '(no reason given)');
    if (d.status === 'cancelled') this.stats.cancelled++;
    if (d.status !== 'done') return;
    if (o.kind === 'destroy') {
      this.stats.destroyed++;
      return;
    }
    this.stats.booted++;
    this.stats.bootLatencies.push(Date.now() - o.since);
    if (this.stats.bootLatencies.length > 1_000) this.stats.bootLatencies.shift();
    if (this.#random() < this.#o.destroyRatio) void this.#destroy(d.id);
    else {
      this.#booted.set(d.id, o.cpu);
      this.stats.bootedCpu += o.cpu;
    }
  }

  #fail(reason: string): void {
    const key = reason.length > 120 ? `${reason.slice(0, 117)}...` : reason;
    this.stats.failures.set(key, (this.stats.failures.get(key) ?? 0) + 1);
  }
}
