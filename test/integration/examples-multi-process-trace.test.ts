/**
 * Issue #17, end to end: the multi-process droplet cloud with `--trace --trace-file`. One droplet
 * created through the API yields one trace whose spans come from the api, harpoon, scheduler,
 * router and agents processes in causal order, including a placement that lost a reservation race
 * and was retried; and a droplet created before Harpoon crashed keeps its trace after the restart,
 * because the trace context is stored with the event.
 */
import { MysqlEventStoreDriver, MysqlFleetDriver } from '@ctlplane/adapters/mysql';
import { Fleet } from '@ctlplane/core';
import { afterEach, expect, it } from 'vitest';
import { DropletClient } from '../../packages/examples/src/droplet-cloud/api-client.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { runExample, until } from './fixtures/examples-kit.js';
import { causalProblems, dropletTrace, first } from './fixtures/trace-analysis.js';
import { TracedCloud } from './fixtures/traced-cloud.js';

/**
 * Change every server's generation behind the scheduler's back, as another scheduler would. With
 * `--refresh-ms` long, the scheduler's view still has the old generations, so its first
 * reservation is refused (compare-and-set on the generation) and it retries with the fresh state.
 */
async function bumpGenerations(prefix: string): Promise<void> {
  const driver = new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix: prefix, poolSize: 1 });
  const fleet = new Fleet({ driver: new MysqlFleetDriver({ pool: driver.pool, tablePrefix: prefix }) });
  try {
    const servers = await fleet.list();
    await fleet.upsert(
      servers.map((s) => ({ id: s.id, region: s.region, capacity: s.capacity, labels: s.labels })),
    );
  } finally {
    await fleet.close();
    await driver.close();
  }
}

describeWith('mysql', 'multi-process droplet cloud, traced', () => {
  describeWith('amqp', 'on RabbitMQ', () => {
    let cloud: TracedCloud | null = null;
    afterEach(async () => {
      await cloud?.close();
      cloud = null;
    });

    it('one droplet: one trace over four processes (and Harpoon by links) in causal order, with a retried placement', async () => {
      cloud = new TracedCloud(['--refresh-ms', '600000']);
      await cloud.start('harpoon');
      await cloud.start('scheduler', 'router');
      await cloud.start('agents', 'api');
      await bumpGenerations(cloud.prefix);
      const droplet = await cloud.bootOne();
      expect(await cloud.stopAll(), cloud.output.join('\n')).toEqual([]);

      const t = dropletTrace(cloud.spans(), droplet.id);
      expect(causalProblems(t)).toEqual([]);
      // In the trace itself: four processes. Harpoon serves the API's create in a coalesced request
      // (no per-caller server span), so its spans (the group commit, the relay rounds) are roots
      // of their own that link into this trace: the fifth process.
      const services = new Set(t.spans.map((s) => s.service));
      for (const role of ['api', 'scheduler', 'router', 'agents'])
        expect(services).toContain(`droplet-cloud-${role}`);
      expect(new Set(t.spans.map((s) => s.pid)).size).toBeGreaterThanOrEqual(4);
      const harpoon = t.linked.filter((s) => s.service === 'droplet-cloud-harpoon');
      expect(harpoon.map((s) => s.name)).toContain('ctlplane.append');
      expect(harpoon.map((s) => s.name)).toContain('ctlplane.relay.publish');

      // The path, in order: API → group commit → placement → router → agent → acknowledgement.
      const root = t.root;
      expect(root.service).toBe('droplet-cloud-api');
      const append = first(t.linked, 'ctlplane.append', (s) => s.links.some((l) => l.spanId === root.spanId));
      const schedule = first(t.spans, 'ctlplane.schedule');
      const deliver = first(
        t.spans,
        'ctlplane.router.deliver',
        (s) => s.attributes['ctlplane.event.status'] === 'placed',
      );
      const handle = first(t.spans, 'ctlplane.agent.handle');
      expect(append?.service).toBe('droplet-cloud-harpoon');
      expect(schedule?.service).toBe('droplet-cloud-scheduler');
      expect(deliver?.service).toBe('droplet-cloud-router');
      expect(handle?.service).toBe('droplet-cloud-agents');
      const starts = [root, append!, schedule!, deliver!, handle!].map((s) => s.start);
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
      expect(schedule?.parentSpanId).toBe(root.spanId);
      expect(deliver?.parentSpanId).toBe(root.spanId);
      expect(handle?.parentSpanId).toBe(root.spanId);
      // The agent's acknowledgements came back with the trace: `running` in the event's context,
      // `done` in its handler span's; the router applied each in a batch linked to it.
      expect(
        t.linked.some(
          (s) => s.name === 'ctlplane.router.ack' && s.links.some((l) => l.spanId === root.spanId),
        ),
      ).toBe(true);
      const ack = t.linked.find(
        (s) => s.name === 'ctlplane.router.ack' && s.links.some((l) => l.spanId === handle?.spanId),
      );
      expect(ack?.service).toBe('droplet-cloud-router');
      expect(ack!.start).toBeGreaterThan(handle!.start);

      // The retried placement: a lost race, a second round, then placed.
      const events = schedule!.events.map((e) => e.name);
      expect(events).toContain('ctlplane.schedule.conflict');
      expect(events).toContain('ctlplane.schedule.retry');
      expect(events.indexOf('ctlplane.schedule.conflict')).toBeLessThan(
        events.indexOf('ctlplane.schedule.retry'),
      );
      const conflicts = schedule!.events.filter((e) => e.name === 'ctlplane.schedule.conflict');
      expect(conflicts.map((e) => e.attributes['ctlplane.conflict.reason'])).toContain('conflict');
      expect(schedule?.attributes['ctlplane.schedule.conflicts']).toBe(conflicts.length);
      expect(events.filter((e) => e === 'ctlplane.schedule.retry')).toHaveLength(conflicts.length);
      expect(schedule?.attributes['ctlplane.schedule.outcome']).toBe('placed');
      expect(schedule?.attributes['ctlplane.server.id']).toBe(droplet.serverId);
      // The reservation calls linked to the trace: the refused ones, then the one that won.
      const refused = t.linked
        .filter((s) => s.name === 'ctlplane.reserve')
        .sort((a, b) => a.start - b.start)
        .map((s) => s.attributes['ctlplane.reserve.refused']);
      expect(refused).toEqual([...conflicts.map(() => 1), 0]);

      // The text waterfall of the same file (what a multi-process deployment has instead of the
      // dashboard's): the create first, the placement with its lost race, the agent's handler.
      const view = await runExample('packages/examples/src/droplet-cloud/trace-view.ts', [
        cloud.traceFile,
        String(droplet.id),
      ]);
      expect(view.code, view.stderr).toBe(0);
      const lines = view.stdout.trim().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^droplet ${droplet.id} · trace ${t.traceId} · \\d+ spans`));
      expect(lines[1]).toMatch(/ droplet-cloud\.api\.create {2}droplet-cloud-api\[\d+\]$/);
      expect(view.stdout).toMatch(
        / ctlplane\.schedule {2}droplet-cloud-scheduler\[\d+\] {2}◆ ctlplane\.schedule\.conflict/,
      );
      expect(view.stdout).toMatch(/ ↳ ctlplane\.append {2}droplet-cloud-harpoon\[\d+\]/);
      expect(view.stdout).toMatch(/ ctlplane\.agent\.handle {2}droplet-cloud-agents\[\d+\]/);
    }, 120_000);

    it('a droplet created before Harpoon crashed keeps its trace after the restart', async () => {
      cloud = new TracedCloud();
      // No scheduler yet: the droplet waits, pending, across the crash.
      await cloud.start('harpoon');
      await cloud.start('router');
      await cloud.start('agents', 'api');
      const client = new DropletClient(cloud.apiUrl);
      const created = await client.create({ region: 'nyc1', name: 'survivor' });
      expect(created.status).toBe('pending');
      await cloud.kill('harpoon');
      await cloud.start('harpoon');
      const [before, after] = cloud.started.filter((p) => p.role === 'harpoon');
      const restartedAt = after!.readyAt;
      await cloud.start('scheduler');
      await until(
        async () => (await client.getMany([created.id]))[0]?.status === 'done',
        `droplet ${created.id} done`,
      );
      expect(await cloud.stopAll(), cloud.output.join('\n')).toEqual([]);

      const t = dropletTrace(cloud.spans(), created.id);
      expect(t.root.start).toBeLessThan(restartedAt);
      // Made after the restart, in three processes, all in the trace the API started before it.
      const schedule = first(t.spans, 'ctlplane.schedule');
      const handle = first(t.spans, 'ctlplane.agent.handle');
      expect(schedule?.service).toBe('droplet-cloud-scheduler');
      expect(schedule!.start).toBeGreaterThan(restartedAt);
      expect(schedule?.parentSpanId).toBe(t.root.spanId);
      expect(handle?.service).toBe('droplet-cloud-agents');
      expect(handle!.start).toBeGreaterThan(restartedAt);
      expect(handle?.parentSpanId).toBe(t.root.spanId);
      // The new Harpoon process relayed the placement, linked to the stored context.
      const publishes = t.linked.filter(
        (s) => s.name === 'ctlplane.relay.publish' && s.pid === after!.pid && s.start > restartedAt,
      );
      expect(publishes.length).toBeGreaterThan(0);
      expect(publishes.every((s) => s.links.some((l) => l.spanId === t.root.spanId))).toBe(true);
      expect(before!.pid).not.toBe(after!.pid);
      expect(causalProblems(t)).toEqual([]);
    }, 120_000);
  });
});
