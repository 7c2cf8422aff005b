/**
 * Regressions found by the chaos runs (docs/reliability.md): a scheduler that lost its lease in
 * the middle of a placement (paused, partitioned) and wakes up after another instance claimed and
 * placed the event must neither take that instance's reservation nor keep a late one of its own.
 */
import { MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import { EventStore, Fleet, type ReserveInput, UnavailableError } from '@ctlplane/core';
import type { FleetDriver } from '@ctlplane/core/driver';
import { describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import {
  type VmTypes as M,
  pinnedScheduler,
  replacing,
  stopAfterEach,
  vmTypes as types,
} from './fixtures/vm-scheduler.js';

const running = stopAfterEach();

/** The inventory seen through a driver whose reservations wait at a gate: a paused instance. */
function gated(driver: FleetDriver): { driver: FleetDriver; waiting: () => number; open: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let waiting = 0;
  const proxy = replacing(driver, 'reserve', (reserve) => async (inputs: readonly ReserveInput[]) => {
    waiting++;
    await gate;
    return reserve(inputs);
  });
  return { driver: proxy, waiting: () => waiting, open: release };
}

/** The event store as one instance sees it: `down()` makes it unreachable (Harpoon killed). */
function severable(store: EventStore<M>): { store: EventStore<M>; down: () => void } {
  let reachable = true;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (!reachable && prop !== 'on' && prop !== 'off' && prop !== 'close')
          return Promise.reject(new UnavailableError('harpoon: connection refused', { transient: false }));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, down: () => (reachable = false) };
}

/** `staleOn`: the server the stale instance may use (the other always uses hv0). */
async function twoSchedulers(staleOn: 'hv0' | 'hv1') {
  const driver = new MemoryFleetDriver();
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
  const staleView = severable(store);
  const fleet = new Fleet({ driver });
  await fleet.upsert(['hv0', 'hv1'].map((id) => ({ id, region: 'nyc1', capacity: { cpu: 8 } })));
  const slow = gated(driver);
  const make = (f: Fleet, only: string, seen: EventStore<M>) =>
    pinnedScheduler(running, { store: seen, fleet: f, only }, { backoff: { initialMs: 5, maxMs: 10 } });
  const stale = make(new Fleet({ driver: slow.driver }), staleOn, staleView.store);
  const fresh = make(fleet, 'hv0', store);
  const [event] = await store.append([{ type: 'vm.create', region: 'nyc1', payload: { cpu: 2 } }]);
  const conflicts: string[] = [];
  stale.on('scheduler:conflict', (e) => conflicts.push(e.reason));
  // The stale instance claims the event and stops in the middle of reserving it …
  await stale.start();
  await until(() => slow.waiting() > 0, 'the stale reservation to be under way');
  // … for longer than its lease; the other instance claims the event again and places it.
  await new Promise((r) => setTimeout(r, 1_100));
  await fresh.start();
  await until(async () => (await store.get(event!.id))!.status === 'placed', 'the event to be placed');
  return { store, fleet, event: event!, slow, conflicts, storeDown: staleView.down, stale };
}

describe('a scheduler waking up after its lease expired', () => {
  it('regression(stale-scheduler-reservation): cannot move the reservation of the instance that placed the event', async () => {
    const { store, fleet, event, slow, conflicts } = await twoSchedulers('hv1');
    slow.open();
    await until(() => conflicts.length > 0, 'the stale instance to give up');
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
    await until(() => conflicts.length > 0, 'the stale instance to give up');
    await until(async () => (await fleet.allocations()).length === 0, 'its late reservation to be released');
    expect(await fleet.get('hv0')).toMatchObject({ allocated: {} });
  });

  it('regression(stale-reserve-after-release): cannot reserve again once the event finished and its key was released, even with the store unreachable', async () => {
    // Both on hv0, as above; but this time the stale instance cannot reach the store when it wakes
    // up (Harpoon is down), so it cannot find out that its placement was refused and clean up.
    const { store, fleet, event, slow, conflicts, storeDown, stale } = await twoSchedulers('hv0');
    await store.transition({ id: event.id, from: 'placed', to: 'failed', error: 'boot failed' });
    expect(await fleet.release([String(event.id)])).toMatchObject([{ ok: true }]);
    storeDown();
    slow.open();
    await until(() => stale.stats().held === 0, 'the stale instance to let the event go');
    // The release retired the key up to claim 2: claim 1's reservation is refused, nothing leaks.
    expect(await fleet.allocations()).toEqual([]);
    expect(await fleet.get('hv0')).toMatchObject({ allocated: {} });
    expect(conflicts).toContain('fenced');
  });

  it('regression(stale-retry-after-lease): a retry whose wait outlasted the lease does not reserve on the old claim', async () => {
    const driver = new MemoryFleetDriver();
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
    const fleet = new Fleet({ driver });
    await fleet.upsert([
      { id: 'small', region: 'nyc1', capacity: { cpu: 1 } },
      { id: 'big', region: 'nyc1', capacity: { cpu: 8 } },
    ]);
    // Every reservation the first instance sends, with the claim it was made for.
    const sent: (number | null | undefined)[] = [];
    const watched = replacing(driver, 'reserve', (reserve) => (inputs: readonly ReserveInput[]) => {
      sent.push(...inputs.map((i) => i.fence));
      return reserve(inputs);
    });
    // A pause in the first instance's wait: its lease lapses however long a renewal it asks for.
    const paused = replacing(
      store,
      'renew',
      (renew) => (id: number, owner: string) => renew(id, owner, 1_000),
    );
    const make = (f: Fleet, only: string, backoffMs: number, seen = store) =>
      pinnedScheduler(
        running,
        { store: seen, fleet: f, only },
        // The wait before the first retry: half to all of it.
        { backoff: { initialMs: backoffMs, maxMs: backoffMs }, refreshMs: 50, fullRefreshMs: 100 },
      );
    const first = make(new Fleet({ driver: watched }), 'small', 3_000, paused);
    const [event] = await store.append([{ type: 'vm.create', region: 'nyc1', payload: { cpu: 2 } }]);
    const retried: number[] = [];
    first.on('scheduler:retried', (e) => retried.push(e.eventId));
    await first.start();
    await until(() => retried.length > 0, 'the first instance to wait for a retry');
    // Its lease runs out during the wait; another instance claims the event and places it, and
    // room appears on the first instance's server before its retry.
    await new Promise((r) => setTimeout(r, 1_050));
    await make(fleet, 'big', 5).start();
    await until(async () => (await store.get(event!.id))!.status === 'placed', 'the event to be placed');
    await fleet.upsert([{ id: 'small', region: 'nyc1', capacity: { cpu: 8 } }]);
    // The first instance's retry is due 1.5–3 s after its wait began; it then lets the event go.
    await until(() => first.stats().held === 0, 'the first instance to let the event go');
    expect((await store.get(event!.id))!).toMatchObject({ status: 'placed', serverId: 'big', attempts: 2 });
    expect(sent).toEqual([]);
    expect((await fleet.allocations()).map((a) => [a.serverId, a.fence])).toEqual([['big', 2]]);
  });
});
