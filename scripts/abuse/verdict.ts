/**
 * The verdict of one attack and of the run: what the "Done when" names (no server exit,
 * no failed good request, the good client's p99 under 250 ms, each server's RSS back within
 * 50 MiB of its baseline, no relay stall) and what each attack expected to see.
 */
import { percentile } from '../../bench/lib/report.js';
import type { GoodSample } from './good-client.js';

/** The bars. */
export const BARS = { p99Ms: 250, rssOverMiB: 50 } as const;

/** Everything measured of one attack. */
export interface AttackRecord {
  readonly name: string;
  readonly finding: string;
  readonly target: string;
  readonly what: string;
  readonly durationS: number;
  /** Server processes that exited during the attack or its settle. */
  readonly crashes: number;
  readonly goodOps: number;
  readonly goodFailures: number;
  readonly failureExamples: readonly string[];
  /** p99 of the good client's operations that started during the attack or the settle's first 30 s (ms). */
  readonly p99Ms: number;
  readonly p50Ms: number;
  readonly maxMs: number;
  /** p99 by operation (create, get, deliver, agent): which one the attack slowed (ms). */
  readonly p99ByOpMs: Readonly<Record<string, number>>;
  /** Peak RSS during the attack, by server (MiB). */
  readonly peakMiB: Readonly<Record<string, number>>;
  /** RSS after the settle, minus the baseline, by server (MiB). */
  readonly overMiB: Readonly<Record<string, number>>;
  /** The same 30 s into the settle (or at its end, when sooner): how fast memory came back. */
  readonly overEarlyMiB: Readonly<Record<string, number>>;
  /** How long the settle took (s). */
  readonly settleS: number;
  /** 1 when the probe change did not reach the bus within the bound. */
  readonly relayStalls: number;
  /** ms the probe change took to reach the bus (null: a stall). */
  readonly probeMs: number | null;
  /** Expectations of the attack that did not hold. */
  readonly misses: readonly string[];
  readonly notes: readonly string[];
}

/**
 * The good client's figures: latencies over `samples` (the operations that started during an
 * attack or the first 30 s of its settle), failures over `whole` (the attack and all its settle).
 */
export function goodFigures(samples: readonly GoodSample[], whole: readonly GoodSample[] = samples) {
  const ms = samples.filter((s) => s.ok).map((s) => s.ms);
  // Failures count over the whole attack and settle, latencies over the p99's window.
  const failed = whole.filter((s) => !s.ok);
  const examples = [...new Set(failed.map((s) => `${s.op}: ${s.error ?? 'failed'}`))].slice(0, 3);
  return {
    goodOps: whole.length,
    goodFailures: failed.length,
    failureExamples: examples,
    p99Ms: ms.length ? Math.round(percentile(ms, 99)) : 0,
    p50Ms: ms.length ? Math.round(percentile(ms, 50)) : 0,
    maxMs: ms.length ? Math.max(...ms) : 0,
    p99ByOpMs: Object.fromEntries(
      [...new Set(samples.map((s) => s.op))].map((op) => {
        const of = samples.filter((s) => s.ok && s.op === op).map((s) => s.ms);
        return [op, of.length ? Math.round(percentile(of, 99)) : 0];
      }),
    ),
  };
}

/** The largest RSS over baseline of the record's servers. */
export const rssOver = (r: AttackRecord): number => Math.max(0, ...Object.values(r.overMiB));

/** Hard bars: any of these fails the run, CI's included. */
export function hardPass(r: AttackRecord): boolean {
  return r.crashes === 0 && r.goodFailures === 0 && r.relayStalls === 0 && r.misses.length === 0;
}

/** The latency and memory bars. */
export const p99Pass = (r: AttackRecord): boolean => r.p99Ms < BARS.p99Ms;
export const rssPass = (r: AttackRecord): boolean => rssOver(r) <= BARS.rssOverMiB;

/** The run's metrics, as bench/results/abuse.json names them. */
export function runMetrics(records: readonly AttackRecord[]) {
  return {
    attacks: records.length,
    crashes: records.reduce((n, r) => n + r.crashes, 0),
    good_client_failures: records.reduce((n, r) => n + r.goodFailures, 0),
    good_client_p99_ms: Math.max(0, ...records.map((r) => r.p99Ms)),
    rss_over_baseline_mib: Math.round(Math.max(0, ...records.map(rssOver))),
    /** Not a bar: the same 30 s after each attack, where the settle used to end. */
    rss_over_baseline_at_30s_mib: Math.round(
      Math.max(0, ...records.map((r) => Math.max(0, ...Object.values(r.overEarlyMiB)))),
    ),
    relay_stalls: records.reduce((n, r) => n + r.relayStalls, 0),
    expectation_misses: records.reduce((n, r) => n + r.misses.length, 0),
  };
}
