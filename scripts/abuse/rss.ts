/**
 * Resident memory of a process, read from `/proc/<pid>/status` (VmRSS), in MiB.
 */
import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in MiB, or null when the process is gone. */
export function rssMiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** The highest RSS of `pid` seen while it runs, sampled every `everyMs`. */
export class PeakSampler {
  #peak = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    everyMs = 200,
  ) {
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.#timer.unref();
    this.sample();
  }

  /** Take one sample now. */
  sample(): void {
    this.#peak = Math.max(this.#peak, rssMiB(this.pid) ?? 0);
  }

  /** Peak since the last reset (MiB). */
  get peak(): number {
    return this.#peak;
  }

  /** Start a new window from the current RSS. */
  reset(): void {
    this.#peak = 0;
    this.sample();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
