import { ConflictError, type StoredEvent } from '@ctlplane/core';
import { expect, it } from 'vitest';
import { create, type MakeStore } from '../event-store.fixtures.js';
import { useStore } from './use-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function claimCases(make: MakeStore): void {
  const h = useStore(make);

  it('16 concurrent claimers over 2,000 events claim every event exactly once', async () => {
    const { store } = h();
    for (let i = 0; i < 2_000; i += 500) {
      await store.append(
        Array.from({ length: 500 }, (_, j) => create(i + j, { serverId: `hv-${(i + j) % 7}` })),
      );
    }
    const claimedBy = new Map<number, string>();
    const duplicates: number[] = [];
    const worker = async (w: number) => {
      const owner = `worker-${w}`;
      const peer = h().peer && w % 2 === 1 ? await h().peer!() : store;
      try {
        for (;;) {
          const batch = await peer.claim({ owner, limit: 25, leaseMs: 60_000 });
          if (batch.length === 0) {
            if (claimedBy.size >= 2_000) return;
            await sleep(5);
            continue;
          }
          for (const e of batch) {
            if (claimedBy.has(e.id)) duplicates.push(e.id);
            claimedBy.set(e.id, owner);
            expect(e.leaseOwner).toBe(owner);
            expect(e.status).toBe('claimed');
          }
          await peer.transitionMany(
            batch.map((e) => ({ id: e.id, version: e.version, to: 'done' as const })),
          );
        }
      } finally {
        if (peer !== store) await peer.close();
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    expect(duplicates).toEqual([]);
    expect(claimedBy.size).toBe(2_000);
    const done = await store.query({ status: 'done', limit: 1 });
    expect(done.events).toHaveLength(1);
    expect((await store.query({ status: ['placed', 'claimed'] })).events).toHaveLength(0);
  });

  it('claims only what matches the filter, and only placed work by default', async () => {
    const { store } = h();
    await store.append([
      create(1, { serverId: 'a' }),
      create(2, { serverId: 'b' }),
      create(3, { serverId: 'a', region: 'sfo2' }),
      { type: 'droplet.destroy', payload: { dropletId: 'd1' }, region: 'nyc1', serverId: 'a' },
      create(4),
    ]);
    const got = await store.claim({
      owner: 'x',
      serverId: 'a',
      region: 'nyc1',
      types: ['droplet.create'],
      limit: 10,
      leaseMs: 5_000,
    });
    expect(got.map((e) => [e.serverId, e.region, e.type])).toEqual([['a', 'nyc1', 'droplet.create']]);
    const pending = await store.claim({ owner: 'sched', status: 'pending', limit: 10, leaseMs: 5_000 });
    expect(pending).toHaveLength(1);
    expect(pending[0]!.status).toBe('pending');
    expect(pending[0]!.leaseOwner).toBe('sched');
    expect(await store.claim({ owner: 'sched2', status: 'pending', limit: 10, leaseMs: 5_000 })).toEqual([]);
  });

  it('makes an expired lease claimable again, counting the attempt', async () => {
    const { store } = h();
    await store.append([create(1, { serverId: 's' })]);
    const [first] = await store.claim({ owner: 'w1', limit: 1, leaseMs: 300 });
    expect(first!.attempts).toBe(1);
    await store.transition({ id: first!.id, version: first!.version, to: 'running' });
    expect(await store.claim({ owner: 'w2', limit: 1, leaseMs: 300 })).toEqual([]);
    await sleep(450);
    const [second] = await store.claim({ owner: 'w2', limit: 1, leaseMs: 60_000 });
    expect(second!.id).toBe(first!.id);
    expect(second!.attempts).toBe(2);
    expect(second!.leaseOwner).toBe('w2');
    expect(second!.status).toBe('claimed');
    await expect(store.renew(first!.id, 'w1', 1_000)).rejects.toBeInstanceOf(ConflictError);
    await expect(
      store.transition({ id: first!.id, version: first!.version + 1, to: 'done' }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('renews and releases leases for their owner only', async () => {
    const { store } = h();
    await store.append([create(1, { serverId: 's' })]);
    const [e] = (await store.claim({ owner: 'w1', limit: 1, leaseMs: 400 })) as [StoredEvent];
    const renewed = await store.renew(e.id, 'w1', 60_000);
    expect(renewed.leaseExpiresAt!.getTime()).toBeGreaterThan(e.leaseExpiresAt!.getTime());
    await expect(store.renew(e.id, 'intruder', 60_000)).rejects.toBeInstanceOf(ConflictError);
    await expect(store.release(e.id, 'intruder')).rejects.toBeInstanceOf(ConflictError);
    await sleep(500);
    expect(await store.claim({ owner: 'w2', limit: 1, leaseMs: 1_000 })).toEqual([]);
    await store.release(e.id, 'w1');
    const [again] = await store.claim({ owner: 'w2', limit: 1, leaseMs: 1_000 });
    expect(again!.id).toBe(e.id);
    expect(again!.attempts).toBe(2);
    await expect(store.renew(123_456_789, 'w1', 1_000)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('validates claims', async () => {
    await expect(h().store.claim({ owner: '', limit: 1, leaseMs: 1 })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(h().store.claim({ owner: 'w', limit: 0, leaseMs: 1 })).rejects.toMatchObject({
      message: expect.stringContaining('limit'),
    });
  });
}
