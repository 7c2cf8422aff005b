/**
 * The droplet-cloud example exposes `/metrics`: scrape it while the cloud runs and check the
 * values are real (they move with the work done, and match what the example reports).
 */
import { parsePrometheusText } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { DROPLET_CLOUD, ExampleProcess, until } from './fixtures/examples-kit.js';

describe('droplet-cloud /metrics', () => {
  it('serves Prometheus text with live values', async () => {
    const p = new ExampleProcess(DROPLET_CLOUD, [
      ...[
        '--dashboard-port',
        '0',
        '--hypervisors',
        '5',
        '--rate',
        '30',
        '--boot-ms',
        '200',
        '--summary-ms',
        '500',
      ],
    ]);
    try {
      const [, base] = await p.waitFor(/^dashboard: (http:\/\/\S+)/m);
      const scrape = async () => {
        const res = await fetch(`${base}/metrics`);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        const { values, malformed } = parsePrometheusText(await res.text());
        expect(malformed).toBe(0);
        return values;
      };
      let v = await scrape();
      for (const region of ['nyc1', 'sfo3', 'ams3'])
        expect(v[`ctlplane_router_connections{region="${region}"}`]).toBe(5);
      expect(v['ctlplane_db_connections{component="harpoon"}']).toBe(1); // one in-memory store client
      expect(v['ctlplane_db_connections{component="agents"}']).toBe(0);

      await until(async () => {
        v = await scrape();
        return (v['ctlplane_store_transitions_total{status="done",store="events"}'] ?? 0) >= 20;
      }, '20 events done, as counted by /metrics');
      const placed = v.ctlplane_scheduler_placements_total ?? 0;
      expect(placed).toBeGreaterThanOrEqual(20);
      expect(v.ctlplane_scheduler_placement_latency_seconds_count).toBe(placed);
      expect(v['ctlplane_store_transitions_total{status="placed",store="events"}']).toBeGreaterThanOrEqual(
        placed,
      );
      expect(v.ctlplane_relay_published_total).toBeGreaterThan(0);
      expect(v.ctlplane_outbox_lag_seconds_count).toBeGreaterThan(0);
      expect(v['ctlplane_router_delivered_events_total{region="nyc1"}']).toBeGreaterThan(0);
      expect(v['ctlplane_bus_published_total{bus="memory"}']).toBeGreaterThan(0);

      const later = await (async () => {
        await until(
          async () => ((await scrape()).ctlplane_scheduler_placements_total ?? 0) > placed,
          'more placements',
        );
        return scrape();
      })();
      expect(later.ctlplane_scheduler_placements_total).toBeGreaterThan(placed);
    } finally {
      expect(await p.stop('SIGINT')).toBe(0);
    }
  });
});
