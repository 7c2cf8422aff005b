/**
 * Scheduler V2 for droplets: spreads by allocation, keeps resources balanced, and avoids
 * hypervisors whose live load (reported with the agents' heartbeats) is high.
 */
import {
  balancedAllocation,
  type Fleet,
  type Logger,
  leastAllocated,
  liveLoad,
  PushMetricsSource,
  Scheduler,
  type SchedulerStore,
} from '@ctlplane/core';
import type { CloudOptions } from './cli.js';
import type { HypervisorSpec } from './fleet-spec.js';
import { type DropletTypes, requestOf } from './types.js';

/** A scheduler and the metrics source its live-load strategy reads. */
export interface SchedulerParts {
  readonly scheduler: Scheduler<DropletTypes>;
  readonly metrics: PushMetricsSource;
}

/** Register the fleet (idempotent: every process derives the same one) and start a scheduler. */
export async function startScheduler(
  o: CloudOptions,
  deps: {
    store: SchedulerStore<DropletTypes>;
    fleet: Fleet;
    spec: readonly HypervisorSpec[];
    logger: Logger;
  },
): Promise<SchedulerParts> {
  for (let i = 0; i < deps.spec.length; i += 500) await deps.fleet.upsert(deps.spec.slice(i, i + 500));
  const metrics = new PushMetricsSource();
  const scheduler = new Scheduler<DropletTypes>({
    store: deps.store,
    fleet: deps.fleet,
    request: requestOf,
    types: ['droplet.create'],
    strategies: [leastAllocated({ weight: 2 }), balancedAllocation(), liveLoad({ metric: 'node_load1' })],
    metrics,
    staleness: { maxAgeMs: 15_000, policy: 'penalise' },
    overcommit: { cpu: o.overcommit, memory: 1 },
    topK: 2,
    idlePollMs: o.mysql ? 200 : 50,
    refreshMs: o.refreshMs,
    leaseMs: o.leaseMs,
    logger: deps.logger,
  });
  await scheduler.start();
  return { scheduler, metrics };
}
