/**
 * The bus queues of a deployment, declared up front with their bindings. Per-process queues expire
 * when their consumer is gone, so a crashed process leaves nothing growing behind.
 */
import { ALL_EVENTS_PATTERN, type BusQueueConfig, regionPattern } from '@ctlplane/core';
import { METRICS_PATTERN } from './metrics-bridge.js';
import { routerQueue } from './routers.js';

const EXPIRES_MS = 60_000;

/** The reconciler's queue: shared by every scheduler process (competing consumers). */
export const reconcileQueue = (prefix: string): string => `droplet-cloud.${prefix}.reconcile`;
/** The dashboard's queue in one process. */
export const dashboardQueue = (prefix: string): string => `droplet-cloud.${prefix}.dashboard.${process.pid}`;
/** A scheduler process's heartbeat-metrics queue (each scheduler needs every sample). */
export const metricsQueue = (prefix: string): string => `droplet-cloud.${prefix}.metrics.${process.pid}`;

/** Router queues, one per region (of one router replica). */
export function routerQueues(prefix: string, regions: readonly string[], replica = 0): BusQueueConfig[] {
  return regions.map((r) => ({
    name: routerQueue(prefix, r, replica),
    bindings: [regionPattern(r)],
    expiresMs: EXPIRES_MS,
  }));
}

/** The reconciler's queue. */
export function reconcileQueues(prefix: string): BusQueueConfig[] {
  return [{ name: reconcileQueue(prefix), bindings: [ALL_EVENTS_PATTERN], expiresMs: 10 * EXPIRES_MS }];
}

/** The dashboard's queue. */
export function dashboardQueues(prefix: string): BusQueueConfig[] {
  return [{ name: dashboardQueue(prefix), bindings: [ALL_EVENTS_PATTERN], expiresMs: EXPIRES_MS }];
}

/** The scheduler's heartbeat-metrics queue. */
export function metricsQueues(prefix: string): BusQueueConfig[] {
  return [
    {
      name: metricsQueue(prefix),
      bindings: [METRICS_PATTERN],
      expiresMs: EXPIRES_MS,
      maxLength: 1_000,
      overflow: 'drop-head',
    },
  ];
}
