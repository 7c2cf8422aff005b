/**
 * The simulated fleet, derived from the options alone, so every process of a deployment (the
 * scheduler registering servers, the agents process running them) agrees on it.
 */
import type { ServerInput } from '@ctlplane/core';
import type { CloudOptions } from './cli.js';

/** One hypervisor: its fleet record. */
export interface HypervisorSpec extends ServerInput {
  readonly capacity: { readonly cpu: number; readonly memory: number };
  readonly labels: Readonly<Record<string, string>>;
}

/** Every hypervisor of the fleet, region by region: `<region>-hv-001`, … */
export function fleetSpec(o: Pick<CloudOptions, 'regions' | 'hypervisors' | 'capacity'>): HypervisorSpec[] {
  const out: HypervisorSpec[] = [];
  for (const region of o.regions) {
    for (let i = 0; i < o.hypervisors; i++) {
      const capacity = o.capacity[i % o.capacity.length]!;
      out.push({
        id: `${region}-hv-${String(i + 1).padStart(3, '0')}`,
        region,
        capacity,
        labels: { rack: `${region}-r${Math.floor(i / 16) + 1}`, gen: String(4 + (i % o.capacity.length)) },
      });
    }
  }
  return out;
}

/** Total vCPUs of a fleet (before overcommit). */
export function totalCpu(spec: readonly HypervisorSpec[]): number {
  return spec.reduce((n, s) => n + s.capacity.cpu, 0);
}
