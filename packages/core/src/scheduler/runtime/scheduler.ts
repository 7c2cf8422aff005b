/**
 * Scheduler V2: claims pending events with a lease, places them in batches through the pipeline
 * (several batches at once on a p-queue), retries what fits nowhere with backoff and fails it with
 * an explanation. Several instances in separate processes share the work through the store's leases
 * and the fleet's compare-and-set reservations.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import type { z } from 'zod';
import { ClosedError } from '../../errors.js';
import type { EventTypeMap } from '../../events/registry.js';
import { type Logger, noopLogger } from '../../logger.js';
import type { EventOf } from '../../store/event-store-types.js';
import type { Explanation } from '../pipeline/explain.js';
import { type DryRunPlacement, PlacementPipeline } from '../pipeline/pipeline.js';
import type { PlacementRequest } from '../pipeline/types.js';
import type { SchedulerStore } from '../scheduler-store.js';
import type { SchedulerEvents } from './events.js';
import { Intake } from './intake.js';
import { parseSchedulerOptions, type SchedulerOptions, type schedulerSchema } from './options.js';
import { Outcomes } from './outcomes.js';
import { type HeldEvent, Placer } from './placement.js';
import { RefreshLoop } from './refresh.js';
import { parseRequestSpec } from './request-spec.js';

/** Counters since start. */
export interface SchedulerStats {
  /** Events placed. */
  readonly placed: number;
  /** Events failed after their last try. */
  readonly failed: number;
  /** Tries that were retried later. */
  readonly retried: number;
  /** Lost reservations and refused placements. */
  readonly conflicts: number;
  /** Events held right now (claimed, not yet placed or failed). */
  readonly held: number;
}

/**
 * The scheduler. Start one or several (in any number of processes) on the same store and fleet.
 * The store is any {@link SchedulerStore}: an {@link EventStore}, or Harpoon in process or over HTTP.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler({
 *   store,
 *   fleet,
 *   request: (e) => ({ demand: { cpu: e.payload.vcpus, memory: e.payload.memoryMb } }),
 *   strategies: [leastAllocated({ weight: 2 }), balancedAllocation()],
 *   overcommit: { cpu: 4, memory: 1 },
 * });
 * scheduler.on('scheduler:placed', (e) => console.log(e.eventId, '→', e.serverId));
 * await scheduler.start();
 * ```
 */
export class Scheduler<M extends EventTypeMap = EventTypeMap> extends EventEmitter<SchedulerEvents> {
  /** The decision pipeline (filters, strategies, cached fleet view). */
  readonly pipeline: PlacementPipeline;
  readonly #store: SchedulerStore<M>;
  readonly #request: SchedulerOptions<M>['request'];
  readonly #o: z.output<typeof schedulerSchema>;
  readonly #log: Logger;
  readonly #queue: PQueue;
  readonly #placer: Placer;
  readonly #outcomes: Outcomes;
  readonly #refresh: RefreshLoop;
  readonly #abort = new AbortController();
  readonly #intake: Intake<EventOf<M>>;
  #started = false;
  #held = 0;
  #conflicts = 0;
  #unsubscribe: (() => void) | null = null;

  /** @param options - store, fleet, request mapping, pipeline and limits; validated here */
  constructor(options: SchedulerOptions<M>) {
    super();
    const { store, fleet, request, logger, strategies, filters, metrics, random, ...rest } = options;
    if (typeof request !== 'function') throw new TypeError('Scheduler: request must be a function');
    const o = parseSchedulerOptions(rest);
    this.#o = o;
    this.#store = store;
    this.#request = request;
    this.#log = (logger ?? noopLogger).child(`scheduler:${o.instanceId}`);
    const { overcommit, staleness, topK, candidates, sample, maxScan, explainLimit, jitter } = o;
    this.pipeline = new PlacementPipeline({
      ...{ strategies, filters, metrics, random },
      ...{
        overcommit,
        staleness,
        topK,
        candidates,
        sample,
        maxScan,
        explainLimit,
        jitter,
        seed: o.seed ?? o.instanceId,
      },
    });
    this.#queue = new PQueue({ concurrency: o.concurrency });
    const onError = (operation: string, err: unknown): void => this.#error(operation, err);
    this.#placer = new Placer({
      ...{ pipeline: this.pipeline, fleet, store, owner: o.instanceId, events: this, onError },
      ...{ maxConflicts: o.maxConflicts, reserveBatch: o.reserveBatch },
    });
    this.#outcomes = new Outcomes({
      ...{ store, pipeline: this.pipeline, events: this, owner: o.instanceId, onError },
      ...{ attempts: o.attempts, leaseMs: o.leaseMs, backoff: o.backoff },
      retry: (helds) => this.#enqueue(helds),
      release: (inputs) => this.#placer.release(inputs),
      done: (n) => this.#done(n),
      stopping: () => this.#abort.signal.aborted,
    });
    this.on('scheduler:conflict', () => this.#conflicts++);
    this.#refresh = new RefreshLoop(fleet, this.pipeline, o, metrics !== undefined, onError);
    this.#intake = new Intake<EventOf<M>>({
      store,
      o,
      held: () => this.#held,
      admit: (events) => this.#admit(events),
      onError,
    });
  }

  /** This instance's lease owner name. */
  get instanceId(): string {
    return this.#o.instanceId;
  }

  /** Counters since start. */
  stats(): SchedulerStats {
    return { ...this.#outcomes.counters, conflicts: this.#conflicts, held: this.#held };
  }

  /** Load the fleet and start claiming and placing. Idempotent. */
  async start(): Promise<void> {
    if (this.#abort.signal.aborted) throw new ClosedError('Scheduler');
    if (this.#started) return;
    this.#started = true;
    await this.#refresh.start();
    this.#unsubscribe = this.#store.onAppended?.(() => this.#intake.wake()) ?? null;
    this.#intake.start();
  }

  /**
   * Resolve once no event of this instance's types and region is pending any more (neither here
   * nor leased by another instance) and none is held here: everything is placed or failed.
   */
  drain(): Promise<void> {
    return this.#intake.drain();
  }

  /**
   * Stop: no more claims, batches in flight finish, events waiting for a retry are handed back
   * (their leases released so another instance takes them at once). Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#refresh.stop();
    await this.#intake.stop();
    await this.#queue.onIdle();
    await this.#outcomes.handBack();
    this.pipeline.close();
  }

  /** The placement request of an event (its `request` mapping, validated). */
  requestFor(event: EventOf<M>): PlacementRequest {
    const spec = parseRequestSpec(this.#request(event), `request of event ${event.id}`);
    return { id: String(event.id), region: event.region, ...spec };
  }

  /** Explain where a request would go now and why (against every server this instance knows). */
  async explain(request: PlacementRequest): Promise<Explanation> {
    await this.#refresh.ensureLoaded();
    return this.pipeline.explain(request);
  }

  /** Plan requests without reserving or placing anything. */
  async dryRun(requests: readonly PlacementRequest[]): Promise<DryRunPlacement[]> {
    await this.#refresh.ensureLoaded();
    return this.pipeline.dryRun(requests);
  }

  #admit(events: readonly EventOf<M>[]): void {
    this.#held += events.length;
    const now = Date.now();
    const helds: HeldEvent[] = [];
    const bad: { event: EventOf<M>; reason: string }[] = [];
    for (const event of events) {
      try {
        helds.push({ event, request: this.pipeline.compile(this.requestFor(event)), attempt: 1, since: now });
      } catch (err) {
        bad.push({ event, reason: `bad request: ${(err as Error).message}` });
      }
    }
    if (bad.length > 0) void this.#outcomes.fail(bad);
    if (helds.length > 0) this.#enqueue(helds);
  }

  #enqueue(helds: HeldEvent[]): void {
    void this.#queue.add(async () => {
      let results: Awaited<ReturnType<Placer['placeBatch']>>;
      try {
        results = await this.#placer.placeBatch(helds);
      } catch (err) {
        // Unknown state: keep the leases; the events are claimable again when they run out.
        this.#error('place', err);
        results = helds.map(() => ({ kind: 'dropped' }));
      }
      await this.#outcomes.handle(helds, results);
    });
  }

  #done(count: number): void {
    const before = this.#held;
    this.#held -= count;
    // Wake the claim loop when it has room for another claim (or everything is settled).
    const threshold = this.#o.maxInFlight - this.#intake.refill;
    if (this.#held === 0 || (before > threshold && this.#held <= threshold)) this.#intake.wake();
  }

  #error(operation: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#log.warn(`${operation} failed`, { error: error.message });
    this.emit('scheduler:error', { operation, error });
  }
}
