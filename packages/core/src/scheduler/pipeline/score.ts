/**
 * Combining strategies: each score clamped to 0..100, then the weighted mean.
 *
 * @internal
 * @module
 */
import type { CandidateServer, RequestView, SchedulingContext, Strategy } from './types.js';

/** @internal Scores are clamped to 0..100; NaN counts as 0. */
export function clamp(v: number): number {
  if (!(v >= 0)) return 0;
  return Math.min(100, v);
}

/** @internal The weighted mean of the strategies' clamped scores. */
export function combinedScore(
  e: CandidateServer,
  r: RequestView,
  ctx: SchedulingContext,
  strategies: readonly Strategy[],
  totalWeight: number,
): number {
  let sum = 0;
  for (let i = 0; i < strategies.length; i++) {
    const s = strategies[i]!;
    sum += s.weight * clamp(s.score(e, r, ctx));
  }
  return totalWeight > 0 ? sum / totalWeight : 0;
}
