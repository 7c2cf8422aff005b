/**
 * `--role scheduler`: Scheduler V2 and the capacity reconciler. It reaches the events through
 * Harpoon's HTTP API (a `HarpoonClient` is a `SchedulerStore`), the fleet inventory through its own
 * small MySQL pool, and agents' metrics through the bus.
 */
import type { Logger } from '@ctlplane/core';
import { openBus, openFleet } from '../backend.js';
import type { CloudOptions } from '../cli.js';
import { fleetSpec } from '../fleet-spec.js';
import { subscribeHeartbeats } from '../metrics-bridge.js';
import { metricsQueue, metricsQueues, reconcileQueue, reconcileQueues } from '../queues.js';
import { Reconciler } from '../reconciler.js';
import { startScheduler } from '../scheduler.js';
import { LatencyWindow } from '../summary.js';
import { harpoonFor } from './endpoints.js';
import { RoleKit, type RunningRole } from './role.js';

export async function startSchedulerRole(
  o: CloudOptions,
  log: Logger,
  say: (l: string) => void,
): Promise<RunningRole> {
  const kit = new RoleKit();
  const harpoon = await harpoonFor(o, 'scheduler');
  const fleet = await openFleet(o, log);
  kit.shutdown.add('fleet', () => fleet.close());
  const bus = await openBus(
    o,
    log,
    [...reconcileQueues(o.tablePrefix), ...metricsQueues(o.tablePrefix)],
    'droplet-cloud:scheduler',
  );
  kit.shutdown.add('bus', () => bus.close());
  const { scheduler, metrics } = await startScheduler(o, {
    store: harpoon,
    fleet: fleet.fleet,
    spec: fleetSpec(o),
    logger: log,
  });
  kit.shutdown.add('scheduler', () => scheduler.stop());
  const heartbeats = await subscribeHeartbeats(bus, metricsQueue(o.tablePrefix), metrics);
  kit.shutdown.add('heartbeats', () => heartbeats.cancel());
  const reconciler = new Reconciler(fleet.fleet, log);
  await reconciler.start(bus, reconcileQueue(o.tablePrefix));
  kit.shutdown.add('reconciler', () => reconciler.stop());
  const latency = new LatencyWindow(scheduler);
  kit.metrics.observeScheduler(scheduler);
  kit.metrics.observeBus(bus);
  kit.metrics.trackConnections('scheduler', () => fleet.connections.count());
  const metricsUrl = await kit.serveMetrics(o);
  say(`scheduler: ready, ${scheduler.instanceId}${metricsUrl ? ` (metrics ${metricsUrl})` : ''}`);
  return {
    summary: async () => {
      const s = scheduler.stats();
      return (
        `scheduler: placed ${s.placed}, failed ${s.failed}, retried ${s.retried}, conflicts ${s.conflicts}, held ${s.held}` +
        ` | p50/p99 ${latency.describe()} | metrics from ${metrics.size} agents | released ${reconciler.released}` +
        ` | ${fleet.connections.count()} ${fleet.connections.unit} (fleet)`
      );
    },
    close: () => kit.close(),
  };
}
