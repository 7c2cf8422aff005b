/**
 * What a newcomer gets wrong first, each with the typed error it now gets: an EventStore built
 * without its `types` (or driver), and a payload with a field its schema does not list. Payload
 * schemas are strict on append at every depth (docs/event-store.md promises a ValidationError),
 * lenient for readers (an Agent), and left as written with `strict: false` or `z.looseObject`.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { defineEventTypes, EventStore, type EventTypeMap, ValidationError } from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const stores: EventStore<EventTypeMap>[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function storeOf<M extends EventTypeMap>(types: ReturnType<typeof defineEventTypes<M>>): EventStore<M> {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
  stores.push(store as unknown as EventStore<EventTypeMap>);
  return store;
}

/** The ValidationError `fn` throws (fails the test otherwise). */
function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

const droplet = z.object({
  vcpus: z.number().int().positive(),
  disk: z.object({ sizeGb: z.number() }).optional(),
  tags: z.array(z.object({ key: z.string() })).default([]),
});

describe('new EventStore(...) checks its parts at construction', () => {
  it('without types: a ValidationError naming `types`, not a TypeError at the first append', () => {
    const err = validationError(
      () =>
        new EventStore({ driver: new MemoryEventStoreDriver() } as unknown as ConstructorParameters<
          typeof EventStore
        >[0]),
    );
    expect(err.issues).toEqual([{ path: 'types', message: expect.stringContaining('defineEventTypes') }]);
  });

  it('with a plain map instead of a registry, or without a driver: each named', () => {
    const err = validationError(
      () =>
        new EventStore({ types: { ping: z.object({}) } } as unknown as ConstructorParameters<
          typeof EventStore
        >[0]),
    );
    expect(err.issues.map((i) => i.path)).toEqual(['driver', 'types']);
  });
});

describe('unknown payload fields', () => {
  const types = defineEventTypes({ 'droplet.create': droplet });

  it.each([
    ['at the top', { vcpus: 2, vcpu: 2 }, '[0].payload.vcpu'],
    ['in a nested object', { vcpus: 2, disk: { sizeGb: 10, sizeGB: 10 } }, '[0].payload.disk.sizeGB'],
    [
      'in an array of objects',
      { vcpus: 2, tags: [{ key: 'a' }, { key: 'b', value: 1 }] },
      '[0].payload.tags.1.value',
    ],
  ])('%s: ValidationError naming the field, nothing written', async (_where, payload, path) => {
    const store = storeOf(types);
    const err = await store
      .append([{ type: 'droplet.create', payload: payload as never, region: 'nyc1' }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([{ path, message: 'unknown field' }]);
    expect(await store.head()).toBe(0);
  });

  it('keeps refinements, defaults and transforms of the schema', async () => {
    const store = storeOf(
      defineEventTypes({
        'droplet.create': droplet.refine((p) => p.vcpus <= 64, {
          message: 'at most 64 vCPUs',
          path: ['vcpus'],
        }),
      }),
    );
    const [event] = await store.append([{ type: 'droplet.create', payload: { vcpus: 2 }, region: 'nyc1' }]);
    expect(event!.payload).toEqual({ vcpus: 2, tags: [] });
    await expect(
      store.append([{ type: 'droplet.create', payload: { vcpus: 65 }, region: 'nyc1' }]),
    ).rejects.toMatchObject({ issues: [{ path: '[0].payload.vcpus', message: 'at most 64 vCPUs' }] });
  });

  it('leaves the caller’s schema object unchanged (it still strips, as zod does)', () => {
    expect(droplet.parse({ vcpus: 1, extra: true })).toEqual({ vcpus: 1, tags: [] });
  });

  it('handles recursive schemas', () => {
    const Node = z.object({
      name: z.string(),
      get children(): z.ZodArray<typeof Node> {
        return z.array(Node);
      },
    });
    const registry = defineEventTypes({ tree: Node });
    expect(registry.parse('tree', { name: 'a', children: [{ name: 'b', children: [] }] })).toBeTruthy();
    const err = validationError(() =>
      registry.parse('tree', { name: 'a', children: [{ name: 'b', children: [], x: 1 }] }),
    );
    expect(err.issues).toEqual([{ path: 'payload.children.0.x', message: 'unknown field' }]);
  });

  it('z.looseObject keeps and stores unknown fields; `strict: false` drops them as zod does', async () => {
    const loose = storeOf(defineEventTypes({ e: z.looseObject({ a: z.number() }) }));
    const [kept] = await loose.append([{ type: 'e', payload: { a: 1, b: 2 }, region: 'nyc1' }]);
    expect(kept!.payload).toEqual({ a: 1, b: 2 });
    const lenient = storeOf(defineEventTypes({ e: z.object({ a: z.number() }) }, { strict: false }));
    const [dropped] = await lenient.append([{ type: 'e', payload: { a: 1, b: 2 } as never, region: 'nyc1' }]);
    expect(dropped!.payload).toEqual({ a: 1 });
  });

  it('readers parse with the schema as written: a field from a newer writer is dropped, not refused', () => {
    expect(types.parse('droplet.create', { vcpus: 2, added: 'later' }, '', { strict: false })).toEqual({
      vcpus: 2,
      tags: [],
    });
  });
});
