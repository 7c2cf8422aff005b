/**
 * Agents' heartbeat metrics, from the routers to the scheduler. In one process the router's
 * `onMetrics` feeds the scheduler's `PushMetricsSource` directly; across processes the router
 * process publishes them on the bus every second and the scheduler process subscribes.
 */
import type { AgentMetrics, MessageBus, MetricsSink, PushMetricsSource, Subscription } from '@ctlplane/core';
import { z } from 'zod';

/** Routing key of a region's heartbeat batch. */
export const metricsRoutingKey = (region: string): string => `metrics.${region.replaceAll('.', '_')}`;
/** Pattern of every heartbeat batch. */
export const METRICS_PATTERN = 'metrics.#';

const batchSchema = z.object({
  samples: z
    .array(
      z.object({
        serverId: z.string().min(1).max(191),
        at: z.number().int().nonnegative(),
        values: z.record(z.string(), z.number()),
      }),
    )
    .max(100_000),
});

/** Collects heartbeats and publishes them in one message per region per interval. */
export class HeartbeatPublisher {
  readonly #bus: MessageBus;
  readonly #held = new Map<string, { region: string; at: number; values: AgentMetrics }>();
  readonly #timer: NodeJS.Timeout;

  constructor(bus: MessageBus, intervalMs = 1_000) {
    this.#bus = bus;
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** A router's `onMetrics` for `region`. */
  sink(region: string): MetricsSink {
    return (serverId, values, at) => this.#held.set(serverId, { region, at: at.getTime(), values });
  }

  async flush(): Promise<void> {
    const byRegion = new Map<string, { serverId: string; at: number; values: AgentMetrics }[]>();
    for (const [serverId, s] of this.#held) {
      const list = byRegion.get(s.region) ?? [];
      byRegion.set(s.region, list);
      list.push({ serverId, at: s.at, values: s.values });
    }
    this.#held.clear();
    await Promise.all(
      [...byRegion].map(([region, samples]) =>
        this.#bus.publish({ routingKey: metricsRoutingKey(region), body: { samples } }).catch(() => {}),
      ),
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Feed heartbeat batches from the bus into a push metrics source. */
export function subscribeHeartbeats(
  bus: MessageBus,
  queue: string,
  push: PushMetricsSource,
): Promise<Subscription> {
  return bus.subscribe({ queue, bindings: [METRICS_PATTERN] }, (delivery) => {
    const parsed = batchSchema.safeParse(delivery.message.body);
    if (!parsed.success) return delivery.reject();
    for (const s of parsed.data.samples) {
      try {
        push.report(s.serverId, s.values, s.at);
      } catch {
        // A bad sample is dropped; the others still count.
      }
    }
  });
}
