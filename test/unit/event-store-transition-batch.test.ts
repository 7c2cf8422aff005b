/**
 * regression(transition-batch-unbounded), review of 2026-12-06: `append` refused more than
 * `maxBatchSize` events, `transitionMany` took any number of inputs in one driver call. It is now
 * bounded the same way, before one input is looked at.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore, ValidationError } from '@ctlplane/core';
import { expect, it } from 'vitest';
import { create, testTypes } from '../contract/event-store.fixtures.js';

it('regression(transition-batch-unbounded): transitionMany refuses more than maxBatchSize inputs, applying none', async () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes, maxBatchSize: 3 });
  try {
    const events = await store.append([create(1), create(2), create(3)]);
    const fail = (id: number) => ({ id, from: 'pending' as const, to: 'failed' as const, error: 'x' });
    const four = [...events.map((e) => fail(e.id)), fail(events[0]!.id)];
    const err = await store.transitionMany(four).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      { path: 'transitions', message: 'must be an array of at most 3 transitions' },
    ]);
    for (const e of events) expect((await store.get(e.id))!.status).toBe('pending');
    // At the bound, and empty, still fine.
    expect(await store.transitionMany([])).toEqual([]);
    const outcomes = await store.transitionMany(events.map((e) => fail(e.id)));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
  } finally {
    await store.close();
  }
});
