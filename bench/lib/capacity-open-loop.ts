/**
 * An open-loop load: requests start at their scheduled times whatever the answers, so a slow
 * server cannot slow the load down (no coordinated omission). Latency runs from each request's
 * scheduled start; requests shed at the in-flight cap, failed, or unfinished after the drain count
 * against the objective.
 */

/** How to offer the load. */
export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  /** Warm-up, then the measured window, in seconds. */
  warmupS: number;
  seconds: number;
  /** Most requests outstanding at once; arrivals beyond are shed (counted as failed). */
  maxInFlight: number;
  /** How long to wait for outstanding requests after the last arrival. */
  drainMs: number;
}

/** What the load saw. */
export interface OpenLoopResult {
  /** Arrivals scheduled in the measured window, per second. */
  offered: number;
  /** Requests that completed successfully inside the measured window, per second. */
  achieved: number;
  /** Latencies (ms) of the measured arrivals that succeeded. */
  latencies: number[];
  /** Measured arrivals that were shed, failed or never finished. */
  failed: number;
  /** Failures by code, measured arrivals only. */
  errors: Record<string, number>;
  /** Most requests outstanding at once. */
  maxInFlight: number;
}

/**
 * Offer `o.rate` requests/s; `call(i)` makes request `i`; `classify(err)` names a failure
 * (e.g. `BUSY`, `UNAVAILABLE`, `ECONNRESET`).
 */
export async function openLoop(
  o: OpenLoopOptions,
  call: (i: number) => Promise<unknown>,
  classify: (err: unknown) => string,
): Promise<OpenLoopResult> {
  const t0 = performance.now();
  const from = t0 + o.warmupS * 1_000;
  const to = from + o.seconds * 1_000;
  const total = Math.round(o.rate * (o.warmupS + o.seconds));
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const inflight = new Set<Promise<void>>();
  let okInWindow = 0;
  let measured = 0;
  let maxInFlight = 0;
  const fail = (code: string, isMeasured: boolean) => {
    if (isMeasured) errors[code] = (errors[code] ?? 0) + 1;
  };
  for (let i = 0; i < total; ) {
    const due = t0 + (i * 1_000) / o.rate;
    const wait = due - performance.now();
    // Always yield when nothing is due yet, or the answers never get a turn.
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 10)));
    // Start every arrival that is due (a late timer starts several at once, at their own times).
    while (i < total && t0 + (i * 1_000) / o.rate <= performance.now()) {
      const at = t0 + (i * 1_000) / o.rate;
      const isMeasured = at >= from && at < to;
      if (isMeasured) measured++;
      if (inflight.size >= o.maxInFlight) {
        fail('shed', isMeasured);
        i++;
        continue;
      }
      const p: Promise<void> = call(i)
        .then(() => {
          const end = performance.now();
          if (end >= from && end < to) okInWindow++;
          if (isMeasured) latencies.push(end - at);
        })
        .catch((err: unknown) => fail(classify(err), isMeasured))
        .finally(() => inflight.delete(p));
      inflight.add(p);
      maxInFlight = Math.max(maxInFlight, inflight.size);
      i++;
    }
  }
  const drained = Promise.all(inflight).then(() => true);
  const timedOut = new Promise<boolean>((r) => setTimeout(() => r(false), o.drainMs).unref());
  await Promise.race([drained, timedOut]);
  const finished = latencies.length + Object.values(errors).reduce((a, b) => a + b, 0);
  if (measured > finished) errors.unfinished = measured - finished;
  return {
    offered: measured / o.seconds,
    achieved: okInWindow / o.seconds,
    latencies,
    failed: measured - latencies.length,
    errors,
    maxInFlight,
  };
}
