/**
 * `@ctlplane/adapters/prometheus` on real components in one process: a store, Harpoon with its
 * relay on the memory bus, a scheduler and a router with agents. The scraped values must match
 * the components' own counters.
 */
import {
  MemoryBus,
  MemoryCursorStore,
  MemoryEventStoreDriver,
  MemoryFleetDriver,
} from '@ctlplane/adapters/memory';
import { CtlplaneMetrics } from '@ctlplane/adapters/prometheus';
import {
  Agent,
  AgentKeyring,
  defineEventTypes,
  EventRouter,
  EventStore,
  Fleet,
  Harpoon,
  InProcessTransport,
  parsePrometheusText,
  Scheduler,
  StorePollInput,
} from '@ctlplane/core';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from './fixtures/examples-kit.js';

const types = defineEventTypes({ 'vm.create': z.object({ cpu: z.number().int().positive() }) });
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scrape(metrics: CtlplaneMetrics): Promise<Record<string, number>> {
  const { values, malformed } = parsePrometheusText(await metrics.metrics());
  expect(malformed).toBe(0);
  return values;
}

describe('CtlplaneMetrics', () => {
  it('counts what the components did', async () => {
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
    const bus = new MemoryBus();
    const harpoon = new Harpoon({ store, bus, cursors: new MemoryCursorStore() }).start();
    const fleet = new Fleet({ driver: new MemoryFleetDriver() });
    const servers = ['hv-1', 'hv-2', 'hv-3'];
    await fleet.upsert(servers.map((id) => ({ id, region: 'r1', capacity: { cpu: 64 } })));
    const scheduler = new Scheduler({ store, fleet, request: (e) => ({ demand: { cpu: e.payload.cpu } }) });
    const keyring = new AgentKeyring({
      keys: [{ kid: 'k', secret: 'prometheus-test-secret-0123456789abcdef' }],
    });
    const router = new EventRouter({
      store: harpoon,
      region: 'r1',
      auth: keyring,
      input: new StorePollInput({ store: harpoon, pollMs: 20 }),
    });
    const transport = new InProcessTransport();
    cleanups.push(
      () => store.close(),
      () => bus.close(),
      () => harpoon.close(),
      () => fleet.close(),
    );

    const metrics = new CtlplaneMetrics();
    metrics.observeStore(store);
    metrics.observeHarpoon(harpoon);
    metrics.observeScheduler(scheduler);
    metrics.observeRouter(router);
    metrics.observeBus(bus);
    let pool = 3;
    metrics.trackConnections('harpoon', () => pool);
    metrics.trackConnections('router', () => 0);

    await scheduler.start();
    await router.listen(transport.server('r1'));
    const agents = servers.map(
      (serverId) =>
        new Agent({
          serverId,
          token: keyring.sign({ serverId, region: 'r1' }),
          urls: ['inproc://r1'],
          connector: transport,
          handlers: {
            'vm.create': (e) =>
              (e.payload as { cpu: number }).cpu > 4 ? Promise.reject(new Error('too big')) : { ok: true },
          },
        }),
    );
    cleanups.push(
      () => scheduler.stop(),
      () => router.close(),
      () => Promise.all(agents.map((a) => a.stop())),
    );
    await Promise.all(agents.map((a) => a.start()));
    let v = await scrape(metrics);
    expect(v['ctlplane_router_connections{region="r1"}']).toBe(3);

    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        harpoon.create({ type: 'vm.create', payload: { cpu: 1 + (i % 5) }, region: 'r1' }),
      ),
    );
    const terminal = async () =>
      (await store.query({ status: ['done', 'failed'], limit: 100 })).events.length;
    await until(async () => (await terminal()) === 20, '20 events done or failed', 30_000);
    await until(async () => (await harpoon.relayLag()) === 0, 'the relay to catch up', 30_000);

    v = await scrape(metrics);
    const stats = scheduler.stats();
    expect(v.ctlplane_scheduler_placements_total).toBe(20);
    expect(stats.placed).toBe(20);
    expect(v.ctlplane_scheduler_placement_latency_seconds_count).toBe(20);
    expect(v.ctlplane_store_appended_events_total).toBeUndefined(); // labelled: see below
    expect(v['ctlplane_store_appended_events_total{store="events"}']).toBe(20);
    expect(v['ctlplane_store_transitions_total{status="placed",store="events"}']).toBe(20);
    expect(v['ctlplane_store_transitions_total{status="done",store="events"}']).toBe(16); // cpu 1..4
    expect(v['ctlplane_store_transitions_total{status="failed",store="events"}']).toBe(4); // cpu 5
    expect(v['ctlplane_router_delivered_events_total{region="r1"}']).toBe(router.stats().delivered);
    expect(v['ctlplane_router_acks_total{region="r1",result="applied"}']).toBe(router.stats().acks.applied);
    expect(v['ctlplane_router_db_queries_total{region="r1"}']).toBe(router.stats().dbQueries.total);
    expect(v.ctlplane_relay_published_total).toBe(harpoon.stats.published);
    expect(v.ctlplane_relay_published_total).toBeGreaterThanOrEqual(20 * 3);
    expect(v.ctlplane_relay_cursor).toBe(await store.head());
    expect(v.ctlplane_outbox_lag_changes).toBe(0);
    expect(v.ctlplane_outbox_lag_seconds_count).toBeGreaterThan(0);
    expect(v['ctlplane_harpoon_batches_total{kind="create"}']).toBeGreaterThan(0);
    expect(v['ctlplane_bus_published_total{bus="memory"}']).toBe(harpoon.stats.published);
    expect(v['ctlplane_db_connections{component="harpoon"}']).toBe(3);
    expect(v['ctlplane_db_connections{component="router"}']).toBe(0);
    pool = 2;
    expect((await scrape(metrics))['ctlplane_db_connections{component="harpoon"}']).toBe(2);

    await Promise.all(agents.map((a) => a.stop()));
    await until(
      async () => (await scrape(metrics))['ctlplane_router_connections{region="r1"}'] === 0,
      'disconnects',
    );
    v = await scrape(metrics);
    expect(v['ctlplane_router_agent_disconnections_total{reason="agent-stopped",region="r1"}']).toBe(3);
  });

  it('stops observing on close, shares a registry, and validates its options', async () => {
    const registry = new Registry();
    const metrics = new CtlplaneMetrics({ registry, prefix: 'demo_' });
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
    cleanups.push(() => store.close());
    const stop = metrics.observeStore(store, 'main');
    await store.append([{ type: 'vm.create', payload: { cpu: 1 }, region: 'r1' }]);
    stop();
    await store.append([{ type: 'vm.create', payload: { cpu: 1 }, region: 'r1' }]);
    const { values } = parsePrometheusText(await registry.metrics());
    expect(values['demo_store_appended_events_total{store="main"}']).toBe(1);
    expect(() => new CtlplaneMetrics({ prefix: 'bad prefix' })).toThrow(/prefix/);
  });
});
