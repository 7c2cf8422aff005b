import {
  ConflictError,
  EVENT_STATUSES,
  type EventStatus,
  NotFoundError,
  type StoredEvent,
  TRANSITIONS,
  ValidationError,
} from '@ctlplane/core';
import { expect, it } from 'vitest';
import { create, type MakeStore, type TestStore } from '../event-store.fixtures.js';
import { useStore } from './use-store.js';

/** Drive a fresh event to `status` through legal steps. */
export async function eventIn(store: TestStore, status: EventStatus): Promise<StoredEvent> {
  let e: StoredEvent = (await store.append([create(1)]))[0]!;
  const step = (to: EventStatus, extra: object = {}) =>
    store.transition({ id: e.id, version: e.version, to, ...extra });
  if (status === 'pending') return e;
  if (status === 'cancelled' || status === 'failed') return step(status, { error: 'because' });
  e = await step('placed', { serverId: 'hv-1' });
  if (status === 'placed') return e;
  [e] = (await store.claim({ owner: 'w1', serverId: 'hv-1', limit: 1, leaseMs: 60_000 })) as [StoredEvent];
  if (status === 'claimed') return e;
  e = await step('running');
  if (status === 'running') return e;
  return step('done', { result: { ok: 1 } });
}

const pairs = EVENT_STATUSES.flatMap((from) => EVENT_STATUSES.map((to) => [from, to] as const));
const legal = pairs.filter(([from, to]) => TRANSITIONS[from].includes(to));
const illegal = pairs.filter(
  ([from, to]) =>
    !TRANSITIONS[from].includes(to) && !(from === to && ['done', 'failed', 'cancelled'].includes(from)),
);

export function transitionCases(make: MakeStore): void {
  const h = useStore(make);

  it.each(legal)('allows %s → %s and bumps version and feed position', async (from, to) => {
    const e = await eventIn(h().store, from);
    const next = await h().store.transition({
      id: e.id,
      version: e.version,
      to,
      serverId: 'hv-2',
      error: 'x',
    });
    expect(next.status).toBe(to);
    expect(next.version).toBe(e.version + 1);
    expect(next.seq).toBeGreaterThan(e.seq);
    expect((await h().store.get(e.id))!.status).toBe(to);
  });

  it.each(illegal)('refuses %s → %s with ConflictError and changes nothing', async (from, to) => {
    const e = await eventIn(h().store, from);
    const err = await h()
      .store.transition({ id: e.id, version: e.version, to, serverId: 'hv-2' })
      .catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ConflictError);
    expect(await h().store.get(e.id)).toEqual(e);
  });

  it('treats a repeated terminal transition as a no-op (idempotent completion)', async () => {
    const e = await eventIn(h().store, 'done');
    const again = await h().store.transition({ id: e.id, from: 'running', to: 'done' });
    expect(again).toEqual(e);
  });

  it('keeps the placement, lease and result that belong to each status', async () => {
    const placed = await eventIn(h().store, 'placed');
    expect(placed.serverId).toBe('hv-1');
    expect(placed.leaseOwner).toBeNull();
    const done = await eventIn(h().store, 'done');
    expect(done.result).toEqual({ ok: 1 });
    expect(done.leaseOwner).toBeNull();
    expect(done.leaseExpiresAt).toBeNull();
  });

  it('compare-and-set: a stale version or status is a ConflictError', async () => {
    const e = await eventIn(h().store, 'pending');
    await h().store.transition({ id: e.id, version: e.version, to: 'placed', serverId: 'a' });
    await expect(
      h().store.transition({ id: e.id, version: e.version, to: 'cancelled' }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(h().store.transition({ id: e.id, from: 'pending', to: 'cancelled' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('exactly one of many concurrent compare-and-set transitions wins', async () => {
    const e = await eventIn(h().store, 'pending');
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        h().store.transition({ id: e.id, version: e.version, to: 'placed', serverId: `hv-${i}` }),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
    const final = await h().store.get(e.id);
    expect(final!.serverId).toBe((won[0] as PromiseFulfilledResult<StoredEvent>).value.serverId);
    expect(final!.version).toBe(e.version + 1);
  });

  it('requires a lease owner match when one is given', async () => {
    const e = await eventIn(h().store, 'claimed');
    await expect(
      h().store.transition({ id: e.id, from: 'claimed', to: 'running', leaseOwner: 'other' }),
    ).rejects.toBeInstanceOf(ConflictError);
    const ok = await h().store.transition({ id: e.id, from: 'claimed', to: 'running', leaseOwner: 'w1' });
    expect(ok.status).toBe('running');
  });

  it('reports each outcome of a batch on its own', async () => {
    const a = await eventIn(h().store, 'pending');
    const b = await eventIn(h().store, 'done');
    const out = await h().store.transitionMany([
      { id: a.id, from: 'pending', to: 'placed', serverId: 's' },
      { id: b.id, from: 'running', to: 'failed' },
      { id: 999_999_999, from: 'pending', to: 'placed', serverId: 's' },
    ]);
    expect(out[0]).toMatchObject({ ok: true, event: { status: 'placed' } });
    expect(out[1]!.ok ? null : out[1]!.error).toBeInstanceOf(ConflictError);
    expect(out[2]!.ok ? null : out[2]!.error).toBeInstanceOf(NotFoundError);
  });

  it('applies a mixed batch: each transition its own server, version, owner, error and result', async () => {
    const [p1, p2, p3] = await h().store.append([create(1), create(2), create(3)]);
    const r1 = await eventIn(h().store, 'running');
    const r2 = await eventIn(h().store, 'running');
    const out = await h().store.transitionMany([
      { id: p1!.id, version: p1!.version, to: 'placed', serverId: 'hv-a' },
      { id: p2!.id, version: p2!.version, to: 'placed', serverId: 'hv-b' },
      { id: p3!.id, version: p3!.version + 1, to: 'placed', serverId: 'hv-c' },
      { id: r1.id, version: r1.version, leaseOwner: 'w1', to: 'done', result: { disk: 'vda' } },
      { id: r2.id, version: r2.version, leaseOwner: 'w1', to: 'failed', error: 'image not found' },
    ]);
    expect(out.map((o) => o.ok)).toEqual([true, true, false, true, true]);
    const [a, b, c, d, f] = await Promise.all([p1, p2, p3, r1, r2].map((e) => h().store.get(e!.id)));
    expect([a!.serverId, b!.serverId, c!.serverId]).toEqual(['hv-a', 'hv-b', null]);
    expect([a!.status, c!.status, c!.version]).toEqual(['placed', 'pending', 1]);
    expect([d!.status, d!.result, d!.leaseOwner]).toEqual(['done', { disk: 'vda' }, null]);
    expect([f!.status, f!.error, f!.result]).toEqual(['failed', 'image not found', null]);
    // Each applied change has its own feed position.
    const seqs = [a!, b!, d!, f!].map((e) => e.seq);
    expect(new Set(seqs).size).toBe(4);
  });

  it('validates transitions: no CAS token, placed without a server, bad status', async () => {
    const e = await eventIn(h().store, 'pending');
    await expect(h().store.transition({ id: e.id, to: 'placed', serverId: 's' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(h().store.transition({ id: e.id, from: 'pending', to: 'placed' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      h().store.transition({ id: e.id, from: 'pending', to: 'exploded' as never }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('to'),
    });
    expect((await h().store.get(e.id))!.version).toBe(1);
  });
}
