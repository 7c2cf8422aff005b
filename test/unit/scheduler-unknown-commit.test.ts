/**
 * Found by a chaos run (docs/reliability.md, `unknown-commit-released`): when the store call that
 * places an event fails without saying whether it committed (Harpoon's database connection killed
 * during COMMIT), the commit can still land after the scheduler has read the event back. The
 * scheduler must not take that read as proof that its placement failed and release the reservation.
 */
import { MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import { EventStore, Fleet, Scheduler, type TransitionInput, UnavailableError } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { type VmTypes as M, replacing, stopAfterEach, vmTypes as types } from './fixtures/vm-scheduler.js';

const running = stopAfterEach();

/** The store as the scheduler sees it: the first placement fails at once and never commits. */
function lostCommit(store: EventStore<M>): EventStore<M> {
  let first = true;
  return replacing(store, 'transitionMany', (transitionMany) => (inputs: readonly TransitionInput[]) => {
    if (!first || inputs.some((i) => i.to !== 'placed')) return transitionMany(inputs);
    first = false;
    return Promise.reject(new UnavailableError('connection killed during COMMIT', { transient: false }));
  });
}

/** The store as the scheduler sees it: the first placement fails at once and commits 100 ms later. */
function lateCommit(store: EventStore<M>): { store: EventStore<M>; landed: () => boolean } {
  let done = false;
  let first = true;
  const proxy = replacing(
    store,
    'transitionMany',
    (transitionMany) => (inputs: readonly TransitionInput[]) => {
      if (!first || inputs.some((i) => i.to !== 'placed')) return transitionMany(inputs);
      first = false;
      setTimeout(() => {
        transitionMany(inputs).then(
          () => {
            done = true;
          },
          (err: unknown) => console.error('the late commit failed', err),
        );
      }, 100);
      return Promise.reject(new UnavailableError('connection killed during COMMIT', { transient: false }));
    },
  );
  return { store: proxy, landed: () => done };
}

describe('a placement whose commit outcome is unknown', () => {
  it('regression(unknown-commit-released): keeps the reservation when the commit lands after the read-back', async () => {
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
    const fleet = new Fleet({ driver: new MemoryFleetDriver() });
    await fleet.upsert([{ id: 'hv0', region: 'nyc1', capacity: { cpu: 8 } }]);
    const seen = lateCommit(store);
    const scheduler = new Scheduler<M>({
      store: seen.store,
      fleet,
      request: (e) => ({ demand: { cpu: e.payload.cpu } }),
      leaseMs: 1_000,
      idlePollMs: 5,
    });
    running.push(scheduler);
    const [event] = await store.append([{ type: 'vm.create', region: 'nyc1', payload: { cpu: 2 } }]);
    await scheduler.start();
    await until(seen.landed, 'the late commit to land');
    expect(await store.get(event!.id)).toMatchObject({ status: 'placed', serverId: 'hv0', attempts: 1 });
    // The scheduler has read the event back and let it go: its decision about the reservation is made.
    await until(() => scheduler.stats().held === 0, 'the scheduler to let the event go');
    expect((await fleet.allocations()).map((a) => [a.key, a.serverId])).toEqual([[String(event!.id), 'hv0']]);
    expect(await fleet.get('hv0')).toMatchObject({ allocated: { cpu: 2 } });
  });

  it('regression(kept-reservation-blocks-its-event): a kept reservation is released when the scheduler fails the event', async () => {
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
    const fleet = new Fleet({ driver: new MemoryFleetDriver() });
    // Room for exactly one: the reservation kept from the first claim fills the only server.
    await fleet.upsert([{ id: 'hv0', region: 'nyc1', capacity: { cpu: 2 } }]);
    const failed: number[] = [];
    const scheduler = new Scheduler<M>({
      store: lostCommit(store),
      fleet,
      request: (e) => ({ demand: { cpu: e.payload.cpu } }),
      leaseMs: 1_000,
      attempts: 1,
      idlePollMs: 5,
    });
    running.push(scheduler);
    scheduler.on('scheduler:failed', (e) => failed.push(e.eventId));
    const [event] = await store.append([{ type: 'vm.create', region: 'nyc1', payload: { cpu: 2 } }]);
    await scheduler.start();
    // Claim 1 reserved hv0 and lost its commit (kept); claim 2, after the lease, finds hv0 full.
    await until(() => failed.length > 0, 'the event to fail', 5_000);
    expect(await store.get(event!.id)).toMatchObject({ status: 'failed', attempts: 2 });
    await until(async () => (await fleet.allocations()).length === 0, 'its reservation to be released');
    expect(await fleet.get('hv0')).toMatchObject({ allocated: {} });
  });
});
