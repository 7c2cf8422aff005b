/**
 * The allocation strategies: spread (least-allocated), bin-pack (most-allocated) and balanced
 * allocation across resources. Utilisation `u_r = (used_r + demand_r) / (capacity_r × ratio_r)`,
 * capped at 1, over the chosen resources R.
 *
 * @module
 */
import type { Strategy } from '../pipeline/types.js';
import { meanUtilisation, type ResourcePick, utilisationSpread } from './utilisation.js';

/** Options shared by the allocation strategies. */
export interface AllocationStrategyOptions {
  /** Relative weight (default 1). */
  weight?: number;
  /** Resources to consider (default: every resource the server has). */
  resources?: readonly string[];
}

function check(weight: number | undefined): number {
  const w = weight ?? 1;
  if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`strategy weight must be positive, got ${w}`);
  return w;
}

/**
 * Spread: prefer the emptiest server. `score = 100 × (1 − mean_R u_r)`.
 * Kubernetes' `LeastAllocated`, Nomad's `spread`.
 */
export function leastAllocated(options: AllocationStrategyOptions = {}): Strategy {
  const weight = check(options.weight);
  const pick: ResourcePick = options.resources;
  return {
    name: 'least-allocated',
    weight,
    score: (s, r, ctx) => 100 * (1 - meanUtilisation(s, r.need, ctx, pick)),
  };
}

/**
 * Bin-pack: prefer the fullest server that still fits. `score = 100 × mean_R u_r`.
 * Kubernetes' `MostAllocated`, Nomad's `binpack`.
 */
export function mostAllocated(options: AllocationStrategyOptions = {}): Strategy {
  const weight = check(options.weight);
  const pick: ResourcePick = options.resources;
  return {
    name: 'most-allocated',
    weight,
    score: (s, r, ctx) => 100 * meanUtilisation(s, r.need, ctx, pick),
  };
}

/**
 * Balanced allocation: prefer servers whose resources stay evenly used, so none runs out while
 * others idle. `score = 100 × (1 − std_R u_r)`. Kubernetes' `BalancedAllocation`.
 */
export function balancedAllocation(options: AllocationStrategyOptions = {}): Strategy {
  const weight = check(options.weight);
  const pick: ResourcePick = options.resources;
  return {
    name: 'balanced-allocation',
    weight,
    score: (s, r, ctx) => 100 * (1 - utilisationSpread(s, r.need, ctx, pick)),
  };
}

/** @internal */
export { check as checkWeight };
