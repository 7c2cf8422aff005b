/**
 * Keeping a scheduler's fleet view fresh: a full load at start, then incremental reads of the
 * servers changed since the last read (with slack for clock skew and commit delays), a periodic
 * full read as a safety net, and periodic re-estimation while metrics age.
 *
 * @internal
 * @module
 */
import type { Fleet } from '../../fleet/fleet.js';
import type { PlacementPipeline } from '../pipeline/pipeline.js';

/**
 * Changes are re-read this far back on a shared fleet, so a commit that lands late (or a clock a
 * little behind the database's) is never missed. A single-process fleet needs no slack.
 */
const SLACK_MS = 1_000;

/** @internal */
export class RefreshLoop {
  readonly #fleet: Fleet;
  readonly #pipeline: PlacementPipeline;
  readonly #o: { readonly refreshMs: number; readonly fullRefreshMs: number };
  readonly #metrics: boolean;
  readonly #onError: (operation: string, err: unknown) => void;
  #timer: NodeJS.Timeout | null = null;
  #loaded: Promise<void> | null = null;
  #lastStart = 0;
  #lastFull = 0;
  #stopped = false;
  #running = false;

  constructor(
    fleet: Fleet,
    pipeline: PlacementPipeline,
    o: { readonly refreshMs: number; readonly fullRefreshMs: number },
    metrics: boolean,
    onError: (operation: string, err: unknown) => void,
  ) {
    this.#fleet = fleet;
    this.#pipeline = pipeline;
    this.#o = o;
    this.#metrics = metrics;
    this.#onError = onError;
  }

  /** Load everything once (shared by concurrent callers). */
  ensureLoaded(): Promise<void> {
    this.#loaded ??= this.#read(true).catch((err: unknown) => {
      this.#loaded = null;
      throw err;
    });
    return this.#loaded;
  }

  async start(): Promise<void> {
    await this.ensureLoaded();
    if (this.#timer || this.#stopped) return;
    // A single-process fleet changes only through this process: reservation outcomes keep the
    // view current, and the periodic full read catches the rest (e.g. a server set to draining).
    const interval = this.#fleet.capabilities.multiProcess ? this.#o.refreshMs : this.#o.fullRefreshMs;
    this.#timer = setInterval(() => void this.#tick(), interval);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
  }

  async #tick(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    try {
      await this.#read(Date.now() - this.#lastFull >= this.#o.fullRefreshMs);
      if (this.#metrics) this.#pipeline.view.reestimate();
    } catch (err) {
      this.#onError('refresh', err);
    } finally {
      this.#running = false;
    }
  }

  async #read(full: boolean): Promise<void> {
    const started = Date.now();
    const servers = await this.#fleet.list(
      full ? {} : { updatedSince: new Date(this.#lastStart - SLACK_MS) },
    );
    this.#pipeline.update(servers);
    this.#lastStart = started;
    if (full) this.#lastFull = started;
  }
}
