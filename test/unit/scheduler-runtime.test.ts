import { MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import {
  defineEventTypes,
  EventStore,
  Fleet,
  mostAllocated,
  type ReserveInput,
  type ReserveOutcome,
  Scheduler,
  type SchedulerEvents,
  type SchedulerOptions,
  UnavailableError,
} from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const map = { 'vm.create': z.object({ cpu: z.number().int(), group: z.string().nullable().default(null) }) };
type M = typeof map;
const types = defineEventTypes(map);

const open: Scheduler<M>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
});

async function setup(servers: number, cpu: number, fleetDriver = new MemoryFleetDriver()) {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
  const fleet = new Fleet({ driver: fleetDriver });
  await fleet.upsert(
    Array.from({ length: servers }, (_, i) => ({ id: `hv${i}`, region: 'nyc1', capacity: { cpu } })),
  );
  const make = (over: Partial<SchedulerOptions<M>> = {}) => {
    const s = new Scheduler<M>({
      store,
      fleet,
      request: (e) => ({ demand: { cpu: e.payload.cpu }, group: e.payload.group }),
      backoff: { initialMs: 5, maxMs: 10 },
      idlePollMs: 5,
      ...over,
    });
    open.push(s);
    return s;
  };
  const append = (cpus: number[]) =>
    store.append(
      cpus.map((cpu) => ({ type: 'vm.create' as const, region: 'nyc1', payload: { cpu, group: null } })),
    );
  return { store, fleet, make, append };
}

type Seen = { [K in keyof SchedulerEvents]: Parameters<SchedulerEvents[K]>[0][] };

function record(s: Scheduler<M>): Seen {
  const seen: Seen = {
    'scheduler:placed': [],
    'scheduler:retried': [],
    'scheduler:failed': [],
    'scheduler:conflict': [],
    'scheduler:error': [],
  };
  s.on('scheduler:placed', (e) => seen['scheduler:placed'].push(e));
  s.on('scheduler:retried', (e) => seen['scheduler:retried'].push(e));
  s.on('scheduler:failed', (e) => seen['scheduler:failed'].push(e));
  s.on('scheduler:conflict', (e) => seen['scheduler:conflict'].push(e));
  s.on('scheduler:error', (e) => seen['scheduler:error'].push(e));
  return seen;
}

describe('Scheduler on the in-memory store and fleet', () => {
  it('places pending events, reserves their demand and emits scheduler:placed', async () => {
    const { store, fleet, make, append } = await setup(3, 8);
    const events = await append([2, 2, 4, 1, 3]);
    const s = make({ strategies: [mostAllocated()], overcommit: { cpu: 1 } });
    const seen = record(s);
    await s.start();
    await s.drain();
    expect(s.stats()).toMatchObject({ placed: 5, failed: 0, held: 0 });
    for (const e of events) {
      const now = (await store.get(e.id))!;
      expect(now.status).toBe('placed');
      const [alloc] = await fleet.allocations({ keys: [String(e.id)] });
      expect(alloc).toMatchObject({ serverId: now.serverId, demand: { cpu: e.payload.cpu } });
    }
    expect(seen['scheduler:placed'].map((p) => p.eventId).sort()).toEqual(events.map((e) => e.id).sort());
    // Bin-packing: 12 cpu on 8-cpu servers needs two of them.
    expect((await fleet.list()).filter((x) => (x.allocated.cpu ?? 0) > 0)).toHaveLength(2);
  });

  it('retries what fits nowhere with backoff, then fails it with the explanation', async () => {
    const { store, make, append } = await setup(2, 4);
    const [big] = await append([6]);
    const s = make({ attempts: 3 });
    const seen = record(s);
    await s.start();
    await s.drain();
    expect(seen['scheduler:retried'].map((r) => r.attempt)).toEqual([1, 2]);
    const [failed] = seen['scheduler:failed'];
    expect(failed!.eventId).toBe(big!.id);
    expect(failed!.explanation!.filters.find((f) => f.name === 'capacity')).toMatchObject({
      rejected: 2,
      reasons: [{ reason: 'insufficient cpu', count: 2 }],
    });
    const now = (await store.get(big!.id))!;
    expect(now.status).toBe('failed');
    expect(now.error).toMatch(
      /no server fits after 3 tries: no server fits request \d+ in nyc1 among 2 servers: capacity rejected 2/,
    );
  });

  it('places on a later try once capacity appears', async () => {
    const { store, fleet, make, append } = await setup(1, 2);
    const [e] = await append([4]);
    const s = make({ attempts: 20, backoff: { initialMs: 20, maxMs: 20 }, fullRefreshMs: 100 });
    const seen = record(s);
    await s.start();
    await new Promise((r) => setTimeout(r, 30));
    await fleet.upsert([{ id: 'big', region: 'nyc1', capacity: { cpu: 16 } }]);
    await s.drain();
    expect((await store.get(e!.id))!).toMatchObject({ status: 'placed', serverId: 'big' });
    expect(seen['scheduler:retried'].length).toBeGreaterThan(0);
  });

  it('moves to the next candidate after a lost reservation race (scheduler:conflict)', async () => {
    const { store, fleet, make, append } = await setup(1, 8);
    const s = make();
    const seen = record(s);
    await s.dryRun([]); // the view is loaded now …
    const [hv0] = await fleet.list();
    await fleet.reserve([{ key: 'other', serverId: 'hv0', generation: hv0!.generation, demand: { cpu: 1 } }]); // … and stale
    const [e] = await append([2]);
    await s.start();
    await s.drain();
    expect(seen['scheduler:conflict']).toEqual([{ eventId: e!.id, serverId: 'hv0', reason: 'conflict' }]);
    expect((await store.get(e!.id))!.status).toBe('placed');
    expect((await fleet.get('hv0'))!.allocated).toEqual({ cpu: 3 });
  });

  it('releases the reservation when the store refuses the placement (no leak)', async () => {
    let store!: EventStore<M>;
    class CancelOnReserve extends MemoryFleetDriver {
      override async reserve(inputs: readonly ReserveInput[]): Promise<ReserveOutcome[]> {
        const out = await super.reserve(inputs);
        // Someone cancels the event between the reservation and the placement.
        for (const i of inputs)
          await store.transition({ id: Number(i.key), from: 'pending', to: 'cancelled' });
        return out;
      }
    }
    const ctx = await setup(1, 8, new CancelOnReserve());
    store = ctx.store;
    const [e] = await ctx.append([3]);
    const s = ctx.make();
    const seen = record(s);
    await s.start();
    await s.drain();
    expect((await store.get(e!.id))!.status).toBe('cancelled');
    expect(seen['scheduler:conflict']).toEqual([{ eventId: e!.id, serverId: 'hv0', reason: 'store' }]);
    expect(await ctx.fleet.allocations()).toEqual([]);
    expect((await ctx.fleet.get('hv0'))!.allocated).toEqual({});
  });

  it('tries again later when the fleet fails, without losing or doubling a reservation', async () => {
    let failures = 1;
    class Flaky extends MemoryFleetDriver {
      override async reserve(inputs: readonly ReserveInput[]): Promise<ReserveOutcome[]> {
        if (failures-- > 0) throw new UnavailableError('fleet is down');
        return super.reserve(inputs);
      }
    }
    const { store, fleet, make, append } = await setup(2, 8, new Flaky());
    const events = await append([1, 2, 3]);
    const s = make({ attempts: 3 });
    const seen = record(s);
    await s.start();
    await s.drain();
    expect(seen['scheduler:error'].map((e) => e.operation)).toContain('reserve');
    expect(seen['scheduler:retried'].map((r) => r.reason)).toEqual(
      Array(3).fill('reservation failed: fleet is down'),
    );
    for (const e of events) expect((await store.get(e.id))!.status).toBe('placed');
    const allocations = await fleet.allocations();
    expect(allocations.map((a) => a.key).sort()).toEqual(events.map((e) => String(e.id)).sort());
  });

  it('fails an event whose request mapping is invalid, naming the field', async () => {
    const { store, make, append } = await setup(1, 8);
    const [e] = await append([-1]);
    const s = make();
    await s.start();
    await s.drain();
    const now = (await store.get(e!.id))!;
    expect(now.status).toBe('failed');
    expect(now.error).toMatch(/^bad request: .*demand\.cpu/);
  });

  it('two instances share one store and fleet: nothing placed twice, nothing overcommitted', async () => {
    const { store, fleet, make, append } = await setup(10, 16);
    await append(Array.from({ length: 120 }, (_, i) => 1 + (i % 3)));
    const a = make({ instanceId: 'a', claimBatch: 7, topK: 3 });
    const b = make({ instanceId: 'b', claimBatch: 5, topK: 3 });
    const placed = [...[a, b].map((s) => record(s)['scheduler:placed'])];
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.drain(), b.drain()]);
    const ids = placed.flat().map((p) => p.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(a.stats().placed).toBeGreaterThan(0);
    expect(b.stats().placed).toBeGreaterThan(0);
    for (const srv of await fleet.list()) expect(srv.allocated.cpu ?? 0).toBeLessThanOrEqual(16);
    const page = await store.query({ limit: 1_000 });
    const placedInStore = page.events.filter((e) => e.status === 'placed');
    expect(placedInStore).toHaveLength(ids.length);
    expect((await fleet.allocations()).length).toBe(ids.length);
    expect(page.events.every((e) => e.status === 'placed' || e.status === 'failed')).toBe(true);
  });

  it('hands back events waiting for a retry when stopped', async () => {
    const { store, make, append } = await setup(1, 1);
    const [e] = await append([5]);
    const s = make({ attempts: 10, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const seen = record(s);
    await s.start();
    while (seen['scheduler:retried'].length === 0) await new Promise((r) => setTimeout(r, 5));
    expect((await store.get(e!.id))!.leaseOwner).toBe(s.instanceId);
    await s.stop();
    const now = (await store.get(e!.id))!;
    expect(now.status).toBe('pending');
    expect(now.leaseExpiresAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(s.stats().held).toBe(0);
  });

  it('explains and dry-runs without placing', async () => {
    const { store, fleet, make, append } = await setup(2, 4);
    const [e] = await append([3]);
    const s = make();
    const x = await s.explain(s.requestFor(e!));
    expect(x).toMatchObject({ requestId: String(e!.id), feasible: 2 });
    const plan = await s.dryRun([
      s.requestFor(e!),
      { id: 'x', region: 'nyc1', demand: { cpu: 3 } },
      { id: 'y', region: 'nyc1', demand: { cpu: 3 } },
    ]);
    expect(plan.map((p) => p.serverId === null)).toEqual([false, false, true]);
    expect((await store.get(e!.id))!.status).toBe('pending');
    expect(await fleet.allocations()).toEqual([]);
  });

  it('validates its options', async () => {
    const { make } = await setup(1, 1);
    expect(() => make({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => make({ leaseMs: 10 })).toThrow(/leaseMs/);
  });
});
