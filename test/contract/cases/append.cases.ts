import { ClosedError, ValidationError } from '@ctlplane/core';
import { expect, it } from 'vitest';
import { create, type MakeStore } from '../event-store.fixtures.js';
import { useStore } from './use-store.js';

export function appendCases(make: MakeStore): void {
  const h = useStore(make);

  it('round-trips unicode and large payloads exactly', async () => {
    const data = `héllo wörld 🚀 ${'日本語'.repeat(10)} \u0000-free \\ "quotes" 'single' ${'x'.repeat(400_000)}`;
    const nested = { a: [1, 2.5, -3, null, true], b: { 'key with spaces': '🎉', deep: { deeper: ['ok'] } } };
    const [e] = await h().store.append([{ type: 'blob', payload: { data, nested }, region: 'ams3' }]);
    const got = await h().store.get(e!.id);
    expect(got!.payload).toEqual({ data, nested });
    expect(got!.type).toBe('blob');
    expect(got!.region).toBe('ams3');
    expect(got!.status).toBe('pending');
    expect(got!.version).toBe(1);
    expect(got!.attempts).toBe(0);
  });

  it('stores SQL-looking strings literally', async () => {
    const evil = "'); DROP TABLE events; -- \\' OR 1=1 /* */ `backtick` %_";
    const [e] = await h().store.append([
      {
        type: 'droplet.create',
        payload: { vcpus: 1, memoryMb: 1, image: evil },
        region: evil,
        idempotencyKey: evil,
      },
    ]);
    const got = await h().store.get(e!.id);
    expect(got!.payload).toEqual({ vcpus: 1, memoryMb: 1, image: evil });
    expect(got!.region).toBe(evil);
    expect((await h().store.query({ region: evil })).events.map((x) => x.id)).toEqual([e!.id]);
  });

  it('returns the original events for a retried append with the same idempotency keys', async () => {
    const batch = [create(1, { idempotencyKey: 'k-1' }), create(2, { idempotencyKey: 'k-2' }), create(3)];
    const first = await h().store.append(batch);
    const again = await h().store.append([
      create(9, { idempotencyKey: 'k-2' }),
      create(8, { idempotencyKey: 'k-1' }),
    ]);
    expect(again.map((e) => e.id)).toEqual([first[1]!.id, first[0]!.id]);
    expect(again[0]!.payload).toEqual(first[1]!.payload);
    const dupInBatch = await h().store.append([
      create(4, { idempotencyKey: 'k-3' }),
      create(5, { idempotencyKey: 'k-3' }),
    ]);
    expect(dupInBatch[0]!.id).toBe(dupInBatch[1]!.id);
    expect((await h().store.query({ limit: 100 })).events).toHaveLength(4);
  });

  it('deduplicates concurrent appends racing on one idempotency key', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => h().store.append([create(1, { idempotencyKey: 'race' })])),
    );
    expect(new Set(results.map((r) => r[0]!.id)).size).toBe(1);
    expect((await h().store.query({})).events).toHaveLength(1);
  });

  it('assigns increasing ids', async () => {
    const events = await h().store.append(Array.from({ length: 50 }, (_, i) => create(i)));
    const ids = events.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
  });

  it.each([
    ['unknown type', { type: 'nope', payload: {}, region: 'r' }, '[1].type'],
    [
      'payload field of the wrong type',
      { type: 'droplet.create', payload: { vcpus: 'two', memoryMb: 1, image: 'x' }, region: 'r' },
      '[1].payload.vcpus',
    ],
    [
      'missing payload field',
      { type: 'droplet.create', payload: { vcpus: 2, memoryMb: 1 }, region: 'r' },
      '[1].payload.image',
    ],
    [
      'empty region',
      { type: 'droplet.create', payload: { vcpus: 2, memoryMb: 1, image: 'x' }, region: '' },
      '[1].region',
    ],
    [
      'unknown payload field',
      { type: 'droplet.create', payload: { vcpus: 2, memoryMb: 1, image: 'x', vcpu: 2 }, region: 'r' },
      '[1].payload.vcpu',
    ],
    [
      'unknown field',
      { type: 'droplet.create', payload: { vcpus: 2, memoryMb: 1, image: 'x' }, region: 'r', extra: 1 },
      '',
    ],
    [
      'oversized payload',
      { type: 'blob', payload: { data: 'x'.repeat(1024 * 1024 + 1) }, region: 'r' },
      '[1].payload',
    ],
  ])('rejects a batch with %s, naming the field, and writes nothing', async (_name, bad, path) => {
    const err = await h()
      .store.append([create(0), bad as never])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('VALIDATION');
    if (path) expect((err as ValidationError).message).toContain(path);
    expect((await h().store.query({})).events).toHaveLength(0);
  });

  it('names an empty region once, at its position in the batch', async () => {
    const err = await h()
      .store.append([create(0), create(1, { region: '' })])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([{ path: '[1].region', message: 'must not be empty' }]);
  });

  it('rejects an empty batch', async () => {
    await expect(h().store.append([])).rejects.toBeInstanceOf(ValidationError);
  });

  it('closes idempotently and refuses calls afterwards with ClosedError', async () => {
    const { store } = h();
    await store.append([create(1)]);
    await Promise.all([store.close(), store.close()]);
    await store.close();
    expect(store.closed).toBe(true);
    await expect(store.append([create(2)])).rejects.toBeInstanceOf(ClosedError);
    await expect(store.get(1)).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store.claim({ owner: 'w', limit: 1, leaseMs: 1000 })).rejects.toMatchObject({
      code: 'CLOSED',
    });
    expect(() => store.follow(0)).toThrow(ClosedError);
  });
}
