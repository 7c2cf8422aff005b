/**
 * Utilisation arithmetic shared by the allocation strategies: the fraction of each resource a
 * server would have in use after a placement. Hot path: no allocation per call.
 *
 * @internal
 * @module
 */
import type { CandidateServer, SchedulingContext } from '../pipeline/types.js';

/** @internal Which resources a strategy looks at: named ones, or every resource the server has. */
export type ResourcePick = readonly string[] | undefined;

let count = 0;
let sum = 0;
let sumSq = 0;

function add(s: CandidateServer, need: Float64Array | null, i: number): void {
  const cap = s.usable[i] ?? 0;
  if (cap <= 0) return;
  const u = Math.min(1, ((s.used[i] ?? 0) + (need?.[i] ?? 0)) / cap);
  count++;
  sum += u;
  sumSq += u * u;
}

function accumulate(
  s: CandidateServer,
  need: Float64Array | null,
  ctx: SchedulingContext,
  pick: ResourcePick,
): void {
  count = 0;
  sum = 0;
  sumSq = 0;
  if (pick) {
    for (const name of pick) {
      const i = ctx.slot(name);
      if (i >= 0) add(s, need, i);
    }
  } else {
    for (let i = 0; i < s.usable.length; i++) add(s, need, i);
  }
}

/** @internal Mean post-placement utilisation (0..1) over the picked resources. */
export function meanUtilisation(
  s: CandidateServer,
  need: Float64Array | null,
  ctx: SchedulingContext,
  pick: ResourcePick,
): number {
  accumulate(s, need, ctx, pick);
  return count === 0 ? 0 : sum / count;
}

/** @internal Standard deviation of the post-placement utilisation fractions. */
export function utilisationSpread(
  s: CandidateServer,
  need: Float64Array | null,
  ctx: SchedulingContext,
  pick: ResourcePick,
): number {
  accumulate(s, need, ctx, pick);
  if (count === 0) return 0;
  const mean = sum / count;
  return Math.sqrt(Math.max(0, sumSq / count - mean * mean));
}
