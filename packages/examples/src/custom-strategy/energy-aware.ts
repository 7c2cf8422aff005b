/**
 * A custom ranking strategy: place work where it costs the least extra power. Each hardware
 * generation draws a different number of watts per busy vCPU (label `gen`), and each server
 * reports its current draw (`power_watts`) with its metrics.
 */
import type { CandidateServer, SchedulingContext, Strategy } from '@ctlplane/core';

/** Watts per busy vCPU by hardware generation. */
export const WATTS_PER_VCPU: Readonly<Record<string, number>> = { '4': 12, '5': 8, '6': 5 };

/** Options of {@link energyAware}. */
export interface EnergyAwareOptions {
  /** Relative weight among the strategies (default 1). */
  weight?: number;
  /** Draw at which a server counts as expensive (default 1,000 W). */
  maxWatts?: number;
}

/**
 * `score = 100 × (1 − (current draw + added draw) / maxWatts)`: efficient hardware and quiet
 * servers first. A server without fresh metrics scores 0, so stale data never attracts work.
 */
export function energyAware(options: EnergyAwareOptions = {}): Strategy {
  const weight = options.weight ?? 1;
  const maxWatts = options.maxWatts ?? 1_000;
  if (!(weight > 0) || !(maxWatts > 0))
    throw new RangeError('energyAware: weight and maxWatts must be positive');
  return {
    name: 'energy-aware',
    weight,
    score(server: CandidateServer, request, ctx: SchedulingContext): number {
      if (ctx.metricsStale(server)) return 0;
      const now = server.metrics?.values.power_watts;
      if (now === undefined) return 0;
      const perVcpu = WATTS_PER_VCPU[server.labels.gen ?? ''] ?? 15;
      const added = (request.demand.cpu ?? 0) * perVcpu;
      return 100 * (1 - Math.min(1, (now + added) / maxWatts));
    },
  };
}
