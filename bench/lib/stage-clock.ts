/**
 * Per-stage timing for the router benchmark's pushed path: when each event reached a stage, by
 * event id, and the event loop's delay in the process that records it. Processes run on one
 * machine, so their `Date.now()` clocks agree.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

/**
 * The event loop delay of this process, in ms, since the last reset: how late a 10 ms timer fired
 * (Node's histogram records the whole interval between firings; the 10 ms are taken off).
 */
export class LoopDelay {
  readonly #h: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.#h.enable();
  }

  /** p50 / p99 / max in ms, then start over. */
  take(): { p50: number; p99: number; max: number } {
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 10) / 10);
    const out = { p50: ms(this.#h.percentile(50)), p99: ms(this.#h.percentile(99)), max: ms(this.#h.max) };
    this.#h.reset();
    return out;
  }
}

/** When each event first reached this stage: flat pairs of event id and `Date.now()`. */
export class StageTimes {
  #pairs: number[] = [];
  readonly #seen = new Set<number>();

  /** Record the first time `id` is seen here. */
  mark(id: number, at = Date.now()): void {
    if (this.#seen.has(id)) return;
    this.#seen.add(id);
    this.#pairs.push(id, at);
  }

  /** The pairs recorded since the last take. */
  take(): number[] {
    const out = this.#pairs;
    this.#pairs = [];
    this.#seen.clear();
    return out;
  }
}

/** Pairs of id and time as a map. */
export function pairsToMap(pairs: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < pairs.length; i += 2) m.set(pairs[i]!, pairs[i + 1]!);
  return m;
}
