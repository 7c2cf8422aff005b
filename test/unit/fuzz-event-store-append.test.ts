/**
 * EventStore.append under fuzzing (memory driver): any input either stores every event of the
 * batch or fails with a ValidationError and stores none of them.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore, isCtlplaneError } from '@ctlplane/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { testTypes } from '../contract/event-store.fixtures.js';
import {
  deepArray,
  hostileJson,
  hostileString,
  nameLike,
} from '../integration/fixtures/security-arbitraries.js';
import { fuzzParams, Tally } from '../integration/fixtures/security-kit.js';

const RUNS = 2_000;

const plausible = fc.oneof(
  fc.record(
    {
      type: fc.constant('droplet.create'),
      payload: fc.record({
        vcpus: fc.integer({ min: 0, max: 64 }),
        memoryMb: fc.integer(),
        image: hostileString,
      }),
      region: nameLike,
      serverId: fc.option(nameLike, { nil: undefined }),
      idempotencyKey: fc.option(nameLike),
    },
    { requiredKeys: ['type', 'payload', 'region'] },
  ),
  fc.record({
    type: fc.constant('blob'),
    payload: fc.record({ data: hostileString, nested: hostileJson }, { requiredKeys: ['data'] }),
    region: nameLike,
  }),
);

/** In-process callers can pass anything at all, not only JSON. */
const anything = fc.anything({
  maxDepth: 3,
  withMap: true,
  withSet: true,
  withDate: true,
  withTypedArray: true,
  withNullPrototype: true,
  withBoxedValues: true,
  withSparseArray: true,
});

const input = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.array(fc.oneof(plausible, plausible, anything), { minLength: 1, maxLength: 6 }),
  },
  { weight: 1, arbitrary: anything },
);

describe('EventStore.append under fuzzing (memory)', () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  afterAll(() => store.close());

  // Only appends run here, so the feed head counts the stored events.
  const count = (): Promise<number> => store.head();

  it(`stores a whole batch or none of it, with a ValidationError, for ${RUNS} hostile inputs`, async () => {
    const tally = new Tally('EventStore.append (memory)');
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(input, async (events) => {
        const before = await count();
        try {
          const stored = await store.append(events as never);
          expect(stored).toHaveLength((events as unknown[]).length);
          const fresh = stored.filter((e) => !seen.has(e.id));
          for (const e of stored) seen.add(e.id);
          expect(await count()).toBe(before + new Set(fresh.map((e) => e.id)).size);
          tally.add('stored');
        } catch (err) {
          expect(isCtlplaneError(err, 'VALIDATION'), String(err)).toBe(true);
          expect(await count()).toBe(before);
          tally.add('ValidationError');
        }
      }),
      fuzzParams(RUNS),
    );
    tally.print();
    expect(tally.count('stored')).toBeGreaterThan(0);
    expect(tally.count('ValidationError')).toBeGreaterThan(0);
  });

  it('refuses a batch over maxBatchSize whole', async () => {
    const before = await count();
    const one = { type: 'blob' as const, payload: { data: 'x' }, region: 'r' };
    const err = await store.append(Array.from({ length: 5_001 }, () => one)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION' });
    expect(await count()).toBe(before);
  });

  it('regression(sparse-batch): a batch with holes is refused with a ValidationError, not UNAVAILABLE', async () => {
    const before = await count();
    // biome-ignore lint/suspicious/noSparseArray: the hole is the input under test
    const holes = [, { type: 'blob', payload: { data: 'x' }, region: 'r' }];
    const err = await store.append(holes as never).catch((e: unknown) => e);
    expect(await count()).toBe(before);
    expect(err).toMatchObject({ code: 'VALIDATION' });
  });

  it('regression(deep-json-500): a 5,000-deep payload is refused with a ValidationError, not a RangeError', async () => {
    const before = await count();
    const err = await store
      .append([{ type: 'blob', payload: { data: 'x', nested: deepArray(5_000) }, region: 'r' }])
      .catch((e: unknown) => e);
    expect(await count()).toBe(before);
    expect(err).toMatchObject({ code: 'VALIDATION' });
  });

  it('regression(non-json-payload): a BigInt in a payload is refused with a ValidationError, not a TypeError', async () => {
    const err = await store
      .append([{ type: 'blob', payload: { data: 'x', nested: 10n }, region: 'r' }] as never)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION' });
  });

  it('regression(non-json-payload): a cyclic payload is refused with a ValidationError, not a TypeError', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const err = await store
      .append([{ type: 'blob', payload: { data: 'x', nested: cyclic }, region: 'r' }])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION' });
  });

  it('regression(non-json-payload): a function in a payload is refused with a ValidationError, not UNAVAILABLE', async () => {
    const err = await store
      .append([{ type: 'blob', payload: { data: 'x', nested: () => 1 }, region: 'r' }] as never)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION' });
  });
});
