/**
 * The scheduler's spans (issue 17): `ctlplane.schedule` per event, a child of the context stored
 * with the event, carrying the placement's explanation, a lost race and the retry as events, and
 * the transition to placed; `ctlplane.reserve` per fleet call, linked to the events it serves.
 */
import { MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import { defineEventTypes, EventStore, Fleet, Scheduler } from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useTracing } from '../support/otel.js';

const types = defineEventTypes({ 'vm.create': z.object({ cpu: z.number().int() }) });

const open: Scheduler<never>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
});

async function setup(servers: number, cpu: number) {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
  const fleet = new Fleet({ driver: new MemoryFleetDriver() });
  await fleet.upsert(
    Array.from({ length: servers }, (_, i) => ({ id: `hv${i}`, region: 'nyc1', capacity: { cpu } })),
  );
  const scheduler = new Scheduler({
    store,
    fleet,
    request: (e) => ({ demand: { cpu: (e.payload as { cpu: number }).cpu } }),
    backoff: { initialMs: 5, maxMs: 10 },
    idlePollMs: 5,
    attempts: 2,
  });
  open.push(scheduler as never);
  const append = (cpu: number) => store.append([{ type: 'vm.create', region: 'nyc1', payload: { cpu } }]);
  return { store, fleet, scheduler, append };
}

describe('scheduler spans', () => {
  const otel = useTracing();

  it('a placement that lost a race: conflict, retry and placed on the schedule span, in the creator trace', async () => {
    const { store, fleet, scheduler, append } = await setup(1, 8);
    await scheduler.dryRun([]); // the view is loaded now …
    const [hv0] = await fleet.list();
    await fleet.reserve([{ key: 'other', serverId: 'hv0', generation: hv0!.generation, demand: { cpu: 1 } }]); // … and stale
    const { user, id } = await otel.inSpan('user.request', async (span) => ({
      user: span,
      id: (await append(2))[0]!.id,
    }));
    await scheduler.start();
    await scheduler.drain();
    expect((await store.get(id))!.status).toBe('placed');

    const [schedule, ...more] = otel.spans('ctlplane.schedule');
    expect(more).toEqual([]);
    expect(schedule!.spanContext().traceId).toBe(user.spanContext().traceId);
    expect(schedule!.parentSpanContext?.spanId).toBe(user.spanContext().spanId);
    expect(schedule!.attributes).toMatchObject({
      'ctlplane.event.id': id,
      'ctlplane.server.id': 'hv0',
      'ctlplane.schedule.outcome': 'placed',
      'ctlplane.schedule.conflicts': 1,
      'ctlplane.schedule.candidates': ['hv0'],
    });
    expect(schedule!.events.map((e) => e.name)).toEqual([
      'ctlplane.schedule.conflict',
      'ctlplane.schedule.retry',
      'ctlplane.transition',
    ]);
    expect(schedule!.events[0]!.attributes).toEqual({
      'ctlplane.server.id': 'hv0',
      'ctlplane.conflict.reason': 'conflict',
    });
    expect(schedule!.events[2]!.attributes).toMatchObject({ 'ctlplane.transition.to': 'placed' });

    const reserves = otel.spans('ctlplane.reserve');
    expect(reserves).toHaveLength(2);
    for (const r of reserves) {
      expect(r.parentSpanContext).toBeUndefined();
      expect(r.links.map((l) => l.context.spanId)).toEqual([user.spanContext().spanId]);
    }
    expect(reserves.map((r) => r.attributes['ctlplane.reserve.refused']).sort()).toEqual([0, 1]);
  });

  it('records how many servers each filter rejected when nothing fits', async () => {
    const { scheduler, append } = await setup(2, 4);
    await otel.inSpan('user.request', () => append(6));
    await scheduler.start();
    await scheduler.drain();
    const spans = otel.spans('ctlplane.schedule');
    expect(spans.length).toBeGreaterThan(0);
    for (const s of spans) {
      expect(s.attributes).toMatchObject({
        'ctlplane.schedule.outcome': 'nofit',
        'ctlplane.schedule.rejected.capacity': 2,
      });
      expect(s.attributes['ctlplane.server.id']).toBeUndefined();
    }
  });
});
