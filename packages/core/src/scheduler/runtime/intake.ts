/**
 * The claim loop: claims pending events with a lease while there is room, sleeps when there is
 * none or nothing to claim (woken early by local appends and finished work), and knows when
 * everything this instance could take is done.
 *
 * @internal
 * @module
 */
import type { ClaimInput, EventPage, EventQuery, StoredEvent } from '../../events/model.js';

/** @internal What the claim loop needs of the EventStore. */
export interface IntakeStore<E extends StoredEvent> {
  claim(input: ClaimInput): Promise<E[]>;
  query(query: EventQuery): Promise<EventPage<E>>;
}

/** @internal */
export interface IntakeDeps<E extends StoredEvent> {
  readonly store: IntakeStore<E>;
  readonly o: {
    readonly instanceId: string;
    readonly claimBatch: number;
    readonly maxInFlight: number;
    readonly leaseMs: number;
    readonly idlePollMs: number;
    readonly types?: readonly string[] | undefined;
    readonly region?: string | undefined;
  };
  /** Events held right now. */
  readonly held: () => number;
  /** Take claimed events in. */
  readonly admit: (events: readonly E[]) => void;
  readonly onError: (operation: string, err: unknown) => void;
}

/** @internal */
export class Intake<E extends StoredEvent> {
  readonly #d: IntakeDeps<E>;
  readonly #stopped = new AbortController();
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #drainWaiters: (() => void)[] = [];

  constructor(deps: IntakeDeps<E>) {
    this.#d = deps;
  }

  /** Room that makes another claim worth it. */
  get refill(): number {
    return Math.ceil(Math.min(this.#d.o.claimBatch, this.#d.o.maxInFlight) / 2);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Cut the current sleep short. */
  wake(): void {
    this.#wake?.();
  }

  drain(): Promise<void> {
    return new Promise((resolve) => {
      this.#drainWaiters.push(resolve);
      this.wake();
    });
  }

  /** Stop claiming; resolves when the loop has exited. Pending `drain()` calls resolve too. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    this.wake();
    await this.#loop;
    for (const r of this.#drainWaiters.splice(0)) r();
  }

  async #run(): Promise<void> {
    const { o } = this.#d;
    while (!this.#stopped.signal.aborted) {
      const room = o.maxInFlight - this.#d.held();
      if (room < this.refill) {
        await this.#sleep(o.idlePollMs);
        continue;
      }
      let events: E[];
      try {
        events = await this.#d.store.claim({
          owner: o.instanceId,
          status: 'pending',
          limit: Math.min(o.claimBatch, room),
          leaseMs: o.leaseMs,
          ...(o.types ? { types: o.types } : {}),
          ...(o.region ? { region: o.region } : {}),
        });
      } catch (err) {
        this.#d.onError('claim', err);
        await this.#sleep(o.idlePollMs);
        continue;
      }
      if (events.length > 0) {
        this.#d.admit(events);
        continue;
      }
      if (this.#d.held() === 0 && this.#drainWaiters.length > 0 && !(await this.#pendingLeft())) {
        for (const r of this.#drainWaiters.splice(0)) r();
      }
      await this.#sleep(o.idlePollMs);
    }
  }

  /**
   * Whether events this instance could schedule are still pending. An empty claim alone proves
   * nothing: other instances' claims may have held the candidates' row locks, or hold leases.
   */
  async #pendingLeft(): Promise<boolean> {
    const { o } = this.#d;
    try {
      for (const type of o.types ?? [undefined]) {
        const page = await this.#d.store.query({
          status: 'pending',
          limit: 1,
          ...(type ? { type } : {}),
          ...(o.region ? { region: o.region } : {}),
        });
        if (page.events.length > 0) return true;
      }
      return false;
    } catch (err) {
      this.#d.onError('drain check', err);
      return true;
    }
  }

  /**
   * Wait `ms`, or less when woken (work done, a local append, stop). The timer is ref'd: while
   * started, the claim loop holds the process open as a server would, so a process whose only job
   * is a scheduler (over a `HarpoonClient`, whose idle sockets do not) keeps running; `stop()`
   * wakes it and lets the process exit.
   */
  #sleep(ms: number): Promise<void> {
    if (this.#stopped.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
