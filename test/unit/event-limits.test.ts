/**
 * Issue 13, findings 2 and 7: what the store accepts must fit what the bus carries, and sizes are
 * checked first, in work bounded by the limit. Before, a 191-character region and server id, a
 * payload just under 1 MiB, or any transition result were accepted and then stalled the relay;
 * and a 9 MB payload was walked, parsed and serialised in full before being refused.
 */
import { MemoryBus, MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import {
  changeMessage,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  defineEventTypes,
  EventStore,
  eventRoutingKey,
  Fleet,
  fitError,
  Harpoon,
  MAX_ENVELOPE_BYTES,
  MAX_ERROR_BYTES,
  MAX_RESULT_BYTES,
  MAX_TRACESTATE_LENGTH,
  maxEventMessageBytes,
  ValidationError,
} from '@ctlplane/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { create, type TestStore, testTypes } from '../contract/event-store.fixtures.js';

const stores: EventStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function makeStore(): TestStore {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  stores.push(store as unknown as EventStore);
  return store;
}

/** An object whose one member is a getter counting reads: shows how far a check walked. */
function counted(reads: { n: number }): Record<string, number> {
  const o: Record<string, number> = {};
  Object.defineProperty(o, 'k', {
    enumerable: true,
    get: () => {
      reads.n++;
      return 1;
    },
  });
  return o;
}

describe('routing keys fit 255 bytes', () => {
  it('regression(routing-key-too-long): refuses at create a region, server id or type too long for a routing key', async () => {
    const store = makeStore();
    // The issue's case: both 191 characters, both accepted before.
    const event = { ...create(1), region: 'r'.repeat(191), serverId: 's'.repeat(191) };
    const err = await store.append([event]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path).sort()).toEqual(['[0].region', '[0].serverId']);
    expect((err as Error).message).toMatch(/at most 64 bytes as a routing-key word/);
    // Escaping counts: 22 dots are 66 bytes as a word.
    await expect(store.append([{ ...create(1), region: '.'.repeat(22) }])).rejects.toThrow(/region/);
    await expect(store.append([{ ...create(1), region: '.'.repeat(21) }])).resolves.toHaveLength(1);
    expect(() => defineEventTypes({ ['t'.repeat(121)]: z.object({}) })).toThrow(/120 bytes/);
    const [placed] = await store.append([create(2)]);
    await expect(
      store.transition({ id: placed!.id, from: 'pending', to: 'placed', serverId: 'é'.repeat(33) }),
    ).rejects.toThrow(/serverId: must be at most 64 bytes/);
    const fleet = new Fleet({ driver: new MemoryFleetDriver() });
    await expect(
      fleet.upsert([{ id: 's'.repeat(65), region: 'nyc1', capacity: { cpu: 1, memory: 1 } }]),
    ).rejects.toThrow(/id: must be at most 64 bytes/);
    await fleet.close();
  });

  it('builds a routing key for every region, server id and type the schemas accept', async () => {
    const word = fc.string({
      unit: fc.constantFrom('a', '.', '%', '*', '#', '_', 'é', '𝕏', '語'),
      maxLength: 200,
    });
    const types = defineEventTypes({ t: z.unknown() });
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
    stores.push(store as unknown as EventStore);
    await fc.assert(
      fc.property(word, word, word, (region, serverId, type) => {
        let accepted = true;
        try {
          store.validate([{ type: 't', payload: null, region, serverId }]);
          defineEventTypes({ [type]: z.unknown() });
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          accepted = false;
        }
        if (accepted) expect(() => eventRoutingKey({ region, serverId, type })).not.toThrow();
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('bodies fit the bus message', () => {
  it('regression(payload-over-message): refuses at create a payload just under the old 1 MiB limit', async () => {
    const store = makeStore();
    const payload = { data: 'x'.repeat(1024 * 1024 - 100) };
    await expect(store.append([{ type: 'blob', payload, region: 'r' }])).rejects.toThrow(
      /\[0\]\.payload: is more than the 524288-byte limit/,
    );
  });

  it('publishes the largest event the store accepts on a default bus', async () => {
    const store = makeStore();
    const data = 'x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES - '{"data":""}'.length);
    const [e] = await store.append([
      {
        type: 'blob',
        payload: { data },
        region: 'é'.repeat(32),
        serverId: '%'.repeat(21),
        idempotencyKey: '"'.repeat(191),
        // The longest trace context: its tracestate at MAX_TRACESTATE_LENGTH.
        traceContext: {
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          tracestate: `k=${'v'.repeat(MAX_TRACESTATE_LENGTH - 2)}`,
        },
      },
    ]);
    expect(e!.traceContext?.tracestate).toHaveLength(MAX_TRACESTATE_LENGTH);
    const [claimed] = await store.claim({ owner: '語'.repeat(191), limit: 1, leaseMs: 60_000 });
    const result = 'y'.repeat(MAX_RESULT_BYTES - 2);
    const error = fitError('\u0001'.repeat(20_000)); // 6 bytes each as JSON: cut to fit
    expect(error.length).toBe(Math.floor((MAX_ERROR_BYTES - 2) / 6));
    const done = await store.transition({ id: claimed!.id, from: 'claimed', to: 'running' });
    const final = await store.transition({ id: e!.id, version: done.version, to: 'failed', result, error });
    const message = changeMessage({ ...final, leaseOwner: claimed!.leaseOwner });
    const bytes = Buffer.byteLength(JSON.stringify(message.body));
    const envelope = bytes - DEFAULT_MAX_PAYLOAD_BYTES - MAX_RESULT_BYTES - MAX_ERROR_BYTES;
    expect(envelope).toBeLessThan(MAX_ENVELOPE_BYTES);
    expect(bytes).toBeLessThanOrEqual(maxEventMessageBytes(DEFAULT_MAX_PAYLOAD_BYTES));
    expect(maxEventMessageBytes(DEFAULT_MAX_PAYLOAD_BYTES)).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_BYTES);
    const bus = new MemoryBus();
    await expect(bus.publish(message)).resolves.toBeUndefined();
    await bus.close();
  });

  it('regression(result-unbounded): refuses a transition result over 256 KiB, naming the field and the limit', async () => {
    const store = makeStore();
    const [e] = await store.append([create(1)]);
    const result = { blob: 'x'.repeat(MAX_RESULT_BYTES) };
    const err = await store
      .transition({ id: e!.id, from: 'pending', to: 'cancelled', result })
      .catch((x) => x);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      { path: 'result', message: `is more than the ${MAX_RESULT_BYTES}-byte limit (as UTF-8 JSON)` },
    ]);
    expect((await store.get(e!.id))!.status).toBe('pending');
  });

  it('Harpoon refuses an oversized result alone: the transitions batched with it apply', async () => {
    const store = makeStore();
    const harpoon = new Harpoon({ store, transitions: { lingerMs: 20 } });
    const events = await store.append([create(1), create(2), create(3)]);
    const results = await Promise.allSettled(
      events.map((e, i) =>
        harpoon.transition({
          id: e.id,
          from: 'pending',
          to: 'cancelled',
          result: i === 1 ? 'x'.repeat(MAX_RESULT_BYTES) : 'ok',
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
    await harpoon.close();
  });

  it('refuses an error over 65,535 bytes as JSON (it also overflowed a MySQL TEXT column)', async () => {
    const store = makeStore();
    const [e] = await store.append([create(1)]);
    const error = 'é'.repeat(40_000); // 40,000 characters, 80,002 bytes as JSON
    await expect(store.transition({ id: e!.id, from: 'pending', to: 'cancelled', error })).rejects.toThrow(
      /error: must be at most 65535 bytes/,
    );
    expect(fitError(error).length).toBe(32_766);
  });
});

describe('sizes are checked first, in work bounded by the limit', () => {
  it('regression(size-after-work): refuses an oversized payload before its schema runs, without walking it all', async () => {
    let schemaRuns = 0;
    const types = defineEventTypes({ big: z.unknown().refine(() => ++schemaRuns > 0) });
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
    stores.push(store as unknown as EventStore);
    const reads = { n: 0 };
    // 200,000 members of 8 bytes: 1.6 MB as JSON, refused after about 65,000 of them.
    const payload = Array.from({ length: 200_000 }, () => counted(reads));
    await expect(store.append([{ type: 'big', payload, region: 'r' }])).rejects.toThrow(/-byte limit/);
    expect(schemaRuns).toBe(0);
    expect(reads.n).toBeLessThan(70_000);
  });

  it('regression(size-after-work): refuses an oversized transition result without walking it all', async () => {
    const store = makeStore();
    const [e] = await store.append([create(1)]);
    const reads = { n: 0 };
    const result = Array.from({ length: 200_000 }, () => counted(reads)) as never;
    await expect(store.transition({ id: e!.id, from: 'pending', to: 'cancelled', result })).rejects.toThrow(
      /262144-byte limit/,
    );
    expect(reads.n).toBeLessThan(40_000);
  });
});
