import { EVENT_STATUSES, type EventStatus, TERMINAL_STATUSES, TRANSITIONS } from '@ctlplane/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { create, type MakeStore, type TestStore } from './event-store.fixtures.js';

/** The reference model: what the spec says each event looks like. */
interface ModelEvent {
  status: EventStatus;
  version: number;
  serverId: string | null;
  leaseOwner: string | null;
  /** The lease was released: claimable again although claimed or running. */
  expired: boolean;
}

const claimable = (m: ModelEvent): boolean =>
  m.status === 'placed' || ((m.status === 'claimed' || m.status === 'running') && m.expired);

type Op =
  | { kind: 'append'; n: number; key: number | null }
  | { kind: 'transition'; pick: number; to: EventStatus; stale: boolean }
  | { kind: 'claim'; limit: number; owner: string }
  | { kind: 'release'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    n: fc.integer({ min: 1, max: 4 }),
    key: fc.option(fc.integer({ min: 0, max: 5 })),
  }),
  fc.record({
    kind: fc.constant('transition' as const),
    pick: fc.nat(),
    to: fc.constantFrom(...EVENT_STATUSES),
    stale: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('claim' as const),
    limit: fc.integer({ min: 1, max: 3 }),
    owner: fc.constantFrom('w1', 'w2'),
  }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
);

async function step(
  store: TestStore,
  model: Map<number, ModelEvent>,
  keys: Map<number, number>,
  op: Op,
): Promise<void> {
  const ids = [...model.keys()];
  if (op.kind === 'append') {
    const key = op.key === null ? undefined : `key-${op.key}`;
    const got = await store.append(
      Array.from({ length: op.n }, (_, i) =>
        create(i, { idempotencyKey: key, serverId: i % 2 ? 'hv' : undefined }),
      ),
    );
    if (op.key !== null && keys.has(op.key)) {
      expect(got.every((e) => e.id === keys.get(op.key!))).toBe(true);
      return;
    }
    for (const e of got) {
      if (model.has(e.id)) continue;
      model.set(e.id, {
        status: e.status,
        version: 1,
        serverId: e.serverId,
        leaseOwner: null,
        expired: false,
      });
      expect(e.status).toBe(e.serverId ? 'placed' : 'pending');
    }
    if (op.key !== null) keys.set(op.key, got[0]!.id);
  } else if (op.kind === 'transition' && ids.length > 0) {
    const id = ids[op.pick % ids.length]!;
    const m = model.get(id)!;
    const version = op.stale ? m.version - 1 : m.version;
    const legal = TRANSITIONS[m.status].includes(op.to);
    const noop = m.status === op.to && TERMINAL_STATUSES.includes(op.to);
    const result = await store.transition({ id, version, to: op.to, serverId: 'hv-x' }).then(
      (e) => ({ ok: true as const, e }),
      (err: { code: string }) => ({ ok: false as const, code: err.code }),
    );
    if (noop) {
      expect(result.ok).toBe(true);
    } else if (op.stale || !legal) {
      expect(result).toEqual({ ok: false, code: 'CONFLICT' });
    } else {
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.e.version).toBe(m.version + 1);
        m.version += 1;
        m.status = op.to;
        if (op.to === 'placed') m.serverId = 'hv-x';
        if (op.to === 'placed' || TERMINAL_STATUSES.includes(op.to)) {
          m.leaseOwner = null;
          m.expired = false;
        }
      }
    }
  } else if (op.kind === 'claim') {
    const available = ids.filter((id) => claimable(model.get(id)!));
    const got = await store.claim({ owner: op.owner, limit: op.limit, leaseMs: 600_000 });
    expect(got.length).toBe(Math.min(op.limit, available.length));
    for (const e of got) {
      const m = model.get(e.id)!;
      expect(claimable(m)).toBe(true);
      m.status = 'claimed';
      m.version += 1;
      m.leaseOwner = op.owner;
      m.expired = false;
    }
  } else if (op.kind === 'release' && ids.length > 0) {
    const id = ids[op.pick % ids.length]!;
    const m = model.get(id)!;
    const ok = await store.release(id, 'w1').then(
      () => true,
      () => false,
    );
    const held = m.leaseOwner === 'w1' && !m.expired && (m.status === 'claimed' || m.status === 'running');
    expect(ok).toBe(held);
    if (ok) {
      m.version += 1;
      m.expired = true;
    }
  }
}

/** Random operation sequences against the reference model, then concurrent interleavings. */
export function describeEventStoreProperties(name: string, make: MakeStore, runs: number): void {
  describe(`EventStore properties: ${name}`, () => {
    it('matches the reference model on random operation sequences', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
          const h = await make();
          try {
            const model = new Map<number, ModelEvent>();
            const keys = new Map<number, number>();
            for (const op of ops) await step(h.store, model, keys, op);
            for (const [id, m] of model) {
              const e = await h.store.get(id);
              expect({ status: e!.status, version: e!.version }).toEqual({
                status: m.status,
                version: m.version,
              });
            }
          } finally {
            await h.cleanup();
          }
        }),
        { numRuns: runs },
      );
    });

    it('keeps its invariants under random concurrent interleavings', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom('claim', 'place', 'finish', 'append'), { minLength: 5, maxLength: 40 }),
          async (kinds) => {
            const h = await make();
            try {
              const seed = await h.store.append(Array.from({ length: 10 }, (_, i) => create(i)));
              const holders = new Map<number, string[]>();
              await Promise.all(
                kinds.map(async (k, i) => {
                  const e = seed[i % seed.length]!;
                  if (k === 'append') await h.store.append([create(i)]);
                  if (k === 'place')
                    await h.store
                      .transition({ id: e.id, from: 'pending', to: 'placed', serverId: 's' })
                      .catch(() => {});
                  if (k === 'finish')
                    await h.store
                      .transition({ id: e.id, from: ['claimed', 'running'], to: 'done' })
                      .catch(() => {});
                  if (k === 'claim') {
                    for (const c of await h.store.claim({ owner: `o${i}`, limit: 2, leaseMs: 600_000 })) {
                      holders.set(c.id, [...(holders.get(c.id) ?? []), `o${i}`]);
                    }
                  }
                }),
              );
              for (const owners of holders.values()) expect(owners).toHaveLength(1);
              const page = await h.store.readFeed(0, { limit: 1_000 });
              const seqs = page.events.map((e) => e.seq);
              expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
              for (const e of page.events) expect(await h.store.get(e.id)).toEqual(e);
            } finally {
              await h.cleanup();
            }
          },
        ),
        { numRuns: runs },
      );
    });
  });
}
