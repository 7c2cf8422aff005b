/**
 * Regressions found by the chaos runs (docs/reliability.md): a scheduler that lost its lease in
 * the middle of a placement (paused, partitioned) and wakes up after another instance claimed and
 * placed the event must neither take that instance's reservation nor keep a late one of its own.
 */
import { MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import {
  defineEventTypes,
  EventStore,
  Fleet,
  type FleetDriver,
  type ReserveInput,
  Scheduler,
  type SchedulerOptions,
} from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const map = { 'vm.create': z.object({ cpu: z.number().int() }) };
type M = typeof map;
const types = defineEventTypes(map);

const running: Scheduler<M>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

const until = async (what: string, test: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The inventory seen through a driver whose reservations wait at a gate: a paused instance. */
function gated(driver: FleetDriver): { driver: FleetDriver; waiting: () => number; open: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let waiting = 0;
  const proxy = new Proxy(driver, {
    get(target, prop, receiver) {
      if (prop === 'reserve') {
        return async (inputs: readonly ReserveInput[]) => {
          waiting++;
          await gate;
          return target.reserve(inputs);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { driver: proxy, waiting: () => waiting, open: release };
}

/** `staleOn`: the server the stale instance may use (the other always uses hv0). */
async function twoSchedulers(staleOn: 'hv0' | 'hv1') {
  const driver = new MemoryFleetDriver();
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
  const fleet = new Fleet({ driver });
  await fleet.upsert(['hv0', 'hv1'].map((id) => ({ id, region: 'nyc1', capacity: { cpu: 8 } })));
  const slow = gated(driver);
  const make = (f: Fleet, only: string) => {
    const options: SchedulerOptions<M> = {
      store,
      fleet: f,
      request: (e) => ({ demand: { cpu: e.payload.cpu } }),
      // Pin each instance to a server: on different ones a stolen reservation shows; on the same one,
      // the other instance's placement looks like the stale one's own.
      filters: [{ name: `only-${only}`, test: (server) => server.id === only }],
      leaseMs: 1_000,
      // One event at a time: the stale instance cannot claim again while it is stuck.
      maxInFlight: 1,
      claimBatch: 1,
      backoff: { initialMs: 5, maxMs: 10 },
      idlePollMs: 5,
    };
    const s = new Scheduler(options);
    running.push(s);
    return s;
  };
  const stale = make(new Fleet({ driver: slow.driver }), staleOn);
  const fresh = make(fleet, 'hv0');
  const [event] = await store.append([{ type: 'vm.create', region: 'nyc1', payload: { cpu: 2 } }]);
  const conflicts: string[] = [];
  stale.on('scheduler:conflict', (e) => conflicts.push(e.reason));
  // The stale instance claims the event and stops in the middle of reserving it …
  await stale.start();
  await until('the stale reservation to be under way', () => slow.waiting() > 0);
  // … for longer than its lease; the other instance claims the event again and places it.
  await new Promise((r) => setTimeout(r, 1_100));
  await fresh.start();
  await until('the event to be placed', async () => (await store.get(event!.id))!.status === 'placed');
  return { store, fleet, event: event!, slow, conflicts };
}

describe('a scheduler waking up after its lease expired', () => {
  it('regression(stale-scheduler-reservation): cannot move the reservation of the instance that placed the event', async () => {
    const { store, fleet, event, slow, conflicts } = await twoSchedulers('hv1');
    slow.open();
    await until('the stale instance to give up', () => conflicts.length > 0);
    expect(conflicts).toEqual(['fenced']);
    const placed = (await store.get(event.id))!;
    expect(placed).toMatchObject({ status: 'placed', serverId: 'hv0', attempts: 2 });
    expect((await fleet.allocations()).map((a) => [a.key, a.serverId, a.fence])).toEqual([
      [String(event.id), 'hv0', 2],
    ]);
    expect(await fleet.get('hv1')).toMatchObject({ allocated: {} });
  });

  it('regression(stale-claim-keeps-reservation): does not keep a late reservation once the event has moved on', async () => {
    // Both on hv0: the event sits on the very server the stale instance reserves.
    const { store, fleet, event, slow, conflicts } = await twoSchedulers('hv0');
    // The droplet fails on hv0 and its reservation is given back (the reconciler's job) …
    await store.transition({ id: event.id, from: 'placed', to: 'failed', error: 'boot failed' });
    expect(await fleet.release([String(event.id)])).toMatchObject([{ ok: true }]);
    // … and only then does the stale instance's reservation arrive.
    slow.open();
    await until('the stale instance to give up', () => conflicts.length > 0);
    await until('its late reservation to be released', async () => (await fleet.allocations()).length === 0);
    expect(await fleet.get('hv0')).toMatchObject({ allocated: {} });
  });
});
