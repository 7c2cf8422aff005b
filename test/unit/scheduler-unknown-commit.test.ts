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
        void transitionMany(inputs).then(() => {
          done = true;
        });
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
    // Let the scheduler finish whatever it does after the failed call.
    await new Promise((r) => setTimeout(r, 200));
    expect((await fleet.allocations()).map((a) => [a.key, a.serverId])).toEqual([[String(event!.id), 'hv0']]);
    expect(await fleet.get('hv0')).toMatchObject({ allocated: { cpu: 2 } });
  });
});
