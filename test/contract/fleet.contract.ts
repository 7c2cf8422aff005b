import {
  type Fleet,
  isCtlplaneError,
  type ReserveInput,
  type Server,
  type ServerInput,
} from '@ctlplane/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** A fresh, empty fleet per test; `peer` opens a second handle on the same storage. */
export type MakeFleet = () => Promise<{
  fleet: Fleet;
  peer: () => Promise<Fleet>;
  cleanup: () => Promise<void>;
}>;

const hv = (id: string, over: Partial<ServerInput> = {}): ServerInput => ({
  id,
  region: 'nyc1',
  capacity: { cpu: 8, mem: 32 },
  labels: { rack: `r-${id}` },
  ...over,
});

const res = (s: Server, key: string, demand: Record<string, number>, over: Partial<ReserveInput> = {}) => ({
  key,
  serverId: s.id,
  generation: s.generation,
  demand,
  ...over,
});

/**
 * The fleet conformance suite. Every backend runs all of it; nothing here is forked per backend.
 */
export function describeFleet(name: string, make: MakeFleet): void {
  describe(`Fleet contract: ${name}`, () => {
    let ctx: Awaited<ReturnType<MakeFleet>>;
    let fleet: Fleet;
    beforeEach(async () => {
      ctx = await make();
      fleet = ctx.fleet;
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    it('registers servers at generation 1 and bumps the generation on every update, keeping allocations', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      expect(a).toMatchObject({ id: 'a', region: 'nyc1', state: 'active', generation: 1, allocated: {} });
      expect(a!.capacity).toEqual({ cpu: 8, mem: 32 });
      const [r] = await fleet.reserve([res(a!, 'k1', { cpu: 2 })]);
      expect(r).toMatchObject({ ok: true, generation: 2 });
      const [b] = await fleet.upsert([hv('a', { capacity: { cpu: 16, mem: 32 }, labels: { rack: 'r9' } })]);
      expect(b).toMatchObject({ generation: 3, allocated: { cpu: 2 }, labels: { rack: 'r9' } });
      expect(b!.capacity.cpu).toBe(16);
      expect(await fleet.get('a')).toEqual(b);
      expect(await fleet.get('nope')).toBeNull();
    });

    it('lists by region, state and change time, ordered by id', async () => {
      const t0 = new Date(Date.now() - 1_000);
      await fleet.upsert([hv('c'), hv('a'), hv('b', { region: 'sfo2' }), hv('d', { state: 'draining' })]);
      expect((await fleet.list()).map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
      expect((await fleet.list({ region: 'nyc1' })).map((s) => s.id)).toEqual(['a', 'c', 'd']);
      expect((await fleet.list({ state: ['draining', 'down'] })).map((s) => s.id)).toEqual(['d']);
      expect(await fleet.list({ updatedSince: t0 })).toHaveLength(4);
      expect(await fleet.list({ updatedSince: new Date(Date.now() + 60_000) })).toHaveLength(0);
    });

    it('changes state with a generation bump; an unknown server is NotFound', async () => {
      await fleet.upsert([hv('a')]);
      const s = await fleet.setState('a', 'draining');
      expect(s).toMatchObject({ state: 'draining', generation: 2 });
      await expect(fleet.setState('zz', 'down')).rejects.toSatisfy((e) => isCtlplaneError(e, 'NOT_FOUND'));
    });

    it('reserves compare-and-set: a stale generation loses and reports the current server', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      const [ok] = await fleet.reserve([res(a!, 'k1', { cpu: 2, mem: 4 }, { group: 'web' })]);
      expect(ok).toMatchObject({ ok: true, key: 'k1', serverId: 'a', generation: 2 });
      const [lost] = await fleet.reserve([res(a!, 'k2', { cpu: 1 })]);
      expect(lost).toMatchObject({ ok: false, reason: 'conflict', key: 'k2' });
      if (lost!.ok) throw new Error('unreachable');
      expect(lost!.server).toMatchObject({
        generation: 2,
        allocated: { cpu: 2, mem: 4 },
        groups: { web: 1 },
      });
      const [alloc] = await fleet.allocations({ serverId: 'a' });
      expect(alloc).toMatchObject({ key: 'k1', serverId: 'a', demand: { cpu: 2, mem: 4 }, group: 'web' });
    });

    it('refuses what does not fit, on draining servers and unknown servers', async () => {
      const [a, d] = await fleet.upsert([hv('a'), hv('d', { state: 'draining' })]);
      const out = await fleet.reserve([
        res(a!, 'k1', { cpu: 9 }),
        res(d!, 'k2', { cpu: 1 }),
        { key: 'k3', serverId: 'ghost', generation: 1, demand: { cpu: 1 } },
        res(a!, 'k4', { gpu: 1 }),
      ]);
      expect(out.map((o) => (o.ok ? 'ok' : o.reason))).toEqual([
        'capacity',
        'state',
        'not_found',
        'conflict',
      ]);
      expect(await fleet.allocations()).toEqual([]);
      expect((await fleet.get('a'))!.generation).toBe(1);
    });

    it('applies overcommit ratios per resource: usable = capacity × ratio', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      const ratios = { cpu: 4, mem: 1 };
      const [ok] = await fleet.reserve([res(a!, 'k1', { cpu: 30, mem: 32 }, { ratios })]);
      expect(ok!.ok).toBe(true);
      const fresh = (await fleet.get('a'))!;
      const [over] = await fleet.reserve([res(fresh, 'k2', { cpu: 3 }, { ratios })]);
      expect(over).toMatchObject({ ok: false, reason: 'capacity' });
      const [fits] = await fleet.reserve([res(fresh, 'k3', { cpu: 2 }, { ratios })]);
      expect(fits!.ok).toBe(true);
    });

    it('treats reservations of one server in one call as a chain', async () => {
      const [a, b] = await fleet.upsert([hv('a'), hv('b')]);
      const out = await fleet.reserve([
        res(a!, 'k1', { cpu: 4 }),
        res(b!, 'k2', { cpu: 9 }),
        res(b!, 'k3', { cpu: 1 }, { generation: b!.generation + 1 }),
        res(a!, 'k4', { cpu: 4 }, { generation: a!.generation + 1 }),
        res(a!, 'k5', { cpu: 1 }, { generation: a!.generation + 2 }),
      ]);
      expect(out.map((o) => (o.ok ? o.generation : o.reason))).toEqual([
        2,
        'capacity',
        'conflict',
        3,
        'capacity',
      ]);
      expect((await fleet.get('a'))!.allocated).toEqual({ cpu: 8 });
      expect((await fleet.get('b'))!.allocated).toEqual({});
    });

    it('a chain breaks even when another writer moved the server to the generation it expects next', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      const other = await ctx.peer();
      await other.reserve([res(a!, 'x', { cpu: 1 })]);
      const out = await fleet.reserve([
        res(a!, 'k1', { cpu: 1 }),
        res(a!, 'k2', { cpu: 1 }, { generation: a!.generation + 1 }),
      ]);
      expect(out.map((o) => o.ok)).toEqual([false, false]);
      expect((await fleet.get('a'))!.allocated).toEqual({ cpu: 1 });
    });

    it('releases by key, bumping the generation; unknown keys are reported', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      await fleet.reserve([res(a!, 'k1', { cpu: 2, mem: 8 }, { group: 'db' })]);
      const [r, missing] = await fleet.release(['k1', 'nope']);
      expect(r).toMatchObject({ ok: true, key: 'k1' });
      if (!r!.ok) throw new Error('unreachable');
      expect(r!.server).toMatchObject({ generation: 3, allocated: {}, groups: {} });
      expect(missing).toEqual({ ok: false, key: 'nope', reason: 'not_found' });
      expect(await fleet.allocations()).toEqual([]);
    });

    it('moves a key that is already held: the old reservation is released first', async () => {
      const [a, b] = await fleet.upsert([hv('a'), hv('b')]);
      await fleet.reserve([res(a!, 'k1', { cpu: 3 }, { group: 'g' })]);
      const [moved] = await fleet.reserve([res(b!, 'k1', { cpu: 2 }, { group: 'g' })]);
      expect(moved!.ok).toBe(true);
      expect(await fleet.get('a')).toMatchObject({ allocated: {}, groups: {}, generation: 3 });
      expect(await fleet.get('b')).toMatchObject({ allocated: { cpu: 2 }, groups: { g: 1 } });
      expect((await fleet.allocations()).map((x) => [x.key, x.serverId])).toEqual([['k1', 'b']]);
    });

    it('regression(stale-scheduler-reservation): keeps a held key when a move to another server is refused', async () => {
      const [a, b] = await fleet.upsert([hv('a'), hv('b')]);
      await fleet.reserve([res(a!, 'k1', { cpu: 3 })]);
      const [stale] = await fleet.reserve([res(b!, 'k1', { cpu: 2 }, { generation: b!.generation + 5 })]);
      expect(stale).toMatchObject({ ok: false, reason: 'conflict' });
      const [tooBig] = await fleet.reserve([res(b!, 'k1', { cpu: 99 })]);
      expect(tooBig).toMatchObject({ ok: false, reason: 'capacity' });
      expect((await fleet.allocations()).map((x) => [x.key, x.serverId])).toEqual([['k1', 'a']]);
      expect(await fleet.get('a')).toMatchObject({ allocated: { cpu: 3 } });
    });

    it('regression(stale-scheduler-reservation): fences: an older decision neither moves nor releases a key a newer one holds', async () => {
      const [a, b, c] = await fleet.upsert([hv('a'), hv('b'), hv('c')]);
      // Claim 2 of the event reserved on a; claim 1, paused past its lease, wakes up.
      expect((await fleet.reserve([res(a!, 'e7', { cpu: 2 }, { fence: 2 })]))[0]!.ok).toBe(true);
      const [late] = await fleet.reserve([res(b!, 'e7', { cpu: 2 }, { fence: 1 })]);
      expect(late).toMatchObject({ ok: false, key: 'e7', reason: 'fenced' });
      expect(await fleet.release([{ key: 'e7', fence: 1 }])).toEqual([
        { ok: false, key: 'e7', reason: 'fenced' },
      ]);
      expect((await fleet.allocations()).map((x) => [x.key, x.serverId, x.fence])).toEqual([['e7', 'a', 2]]);
      expect(await fleet.get('b')).toMatchObject({ allocated: {} });
      // The same claim retrying, or a newer one, moves it; so does an unfenced caller.
      expect((await fleet.reserve([res(b!, 'e7', { cpu: 2 }, { fence: 2 })]))[0]!.ok).toBe(true);
      expect((await fleet.reserve([res(c!, 'e7', { cpu: 2 }, { fence: 3 })]))[0]!.ok).toBe(true);
      expect(await fleet.get('a')).toMatchObject({ allocated: {} });
      expect(await fleet.get('b')).toMatchObject({ allocated: {} });
      expect((await fleet.release([{ key: 'e7', fence: 3 }]))[0]).toMatchObject({ ok: true, key: 'e7' });
      await fleet.reserve([res((await fleet.get('a'))!, 'e8', { cpu: 1 }, { fence: 9 })]);
      expect((await fleet.release(['e8']))[0]).toMatchObject({ ok: true });
      expect(await fleet.allocations()).toEqual([]);
    });

    it('regression(stale-reserve-after-release): a released key stays fenced against decisions no newer than the release', async () => {
      const [a, b] = await fleet.upsert([hv('a'), hv('b')]);
      // Claim 2 placed the event on a; the droplet went away and the key was released (unfenced) …
      expect((await fleet.reserve([res(a!, 'e7', { cpu: 2 }, { fence: 2 })]))[0]!.ok).toBe(true);
      expect((await fleet.release(['e7']))[0]).toMatchObject({ ok: true });
      // … so claims 1 and 2, waking up late, cannot reserve it again; a newer claim or an unfenced caller can.
      const fresh = async (id: string) => (await fleet.get(id))!;
      for (const fence of [1, 2]) {
        const [late] = await fleet.reserve([res(await fresh('b'), 'e7', { cpu: 2 }, { fence })]);
        expect(late).toMatchObject({ ok: false, key: 'e7', reason: 'fenced' });
      }
      expect(await fleet.allocations()).toEqual([]);
      expect(await fleet.get('b')).toMatchObject({ allocated: {}, generation: b!.generation });
      expect((await fleet.reserve([res(await fresh('b'), 'e7', { cpu: 2 }, { fence: 3 })]))[0]!.ok).toBe(
        true,
      );
      expect((await fleet.release([{ key: 'e7', fence: 3 }]))[0]).toMatchObject({ ok: true });
      expect((await fleet.reserve([res(await fresh('a'), 'e7', { cpu: 1 })]))[0]!.ok).toBe(true);
      expect((await fleet.allocations()).map((x) => [x.key, x.serverId, x.fence])).toEqual([
        ['e7', 'a', null],
      ]);

      // A fenced release retires a key even when nothing is held (a create that failed unplaced) …
      expect(await fleet.release([{ key: 'e9', fence: 4 }])).toEqual([
        { ok: false, key: 'e9', reason: 'not_found' },
      ]);
      const [e9] = await fleet.reserve([res(await fresh('a'), 'e9', { cpu: 1 }, { fence: 4 })]);
      expect(e9).toMatchObject({ ok: false, reason: 'fenced' });
      expect((await fleet.reserve([res(await fresh('a'), 'e9', { cpu: 1 }, { fence: 6 })]))[0]!.ok).toBe(
        true,
      );
      // … and a retirement is only ever raised: released at 6, a later release at 5 does not lower it.
      expect((await fleet.release(['e9']))[0]).toMatchObject({ ok: true });
      expect((await fleet.release([{ key: 'e9', fence: 5 }]))[0]).toMatchObject({
        ok: false,
        reason: 'not_found',
      });
      const [again] = await fleet.reserve([res(await fresh('a'), 'e9', { cpu: 1 }, { fence: 6 })]);
      expect(again).toMatchObject({ ok: false, reason: 'fenced' });
    });

    it('regression(stale-reserve-after-release): a release and a late reserve of one key racing on two handles never leave a reservation', async () => {
      const [a] = await fleet.upsert([hv('a', { capacity: { cpu: 100 } })]);
      const other = await ctx.peer();
      for (let i = 0; i < 30; i++) {
        const s = (await fleet.get('a'))!;
        const key = `race-${i}`;
        const [[reserved], [released]] = await Promise.all([
          fleet.reserve([res(s, key, { cpu: 1 }, { fence: 1 })]),
          other.release([{ key, fence: 1 }]),
        ]);
        // Either the release came first (the reserve is fenced) or second (it released the reservation).
        expect(reserved!.ok ? released!.ok : reserved!.reason === 'fenced').toBe(true);
      }
      expect(await fleet.allocations()).toEqual([]);
      expect((await fleet.get('a'))!.allocated).toEqual({});
      expect(a).toBeDefined();
    });

    it('forgets released keys older than the retention (pruneReleased)', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      await fleet.release([{ key: 'old', fence: 3 }]);
      await new Promise((r) => setTimeout(r, 1_000));
      await fleet.release([{ key: 'new', fence: 3 }]);
      // 'old' is a second old, 'new' a moment: a half-second retention forgets only 'old'.
      expect(await fleet.pruneReleased(500)).toBe(1);
      const s = (await fleet.get('a'))!;
      const [old, recent] = await fleet.reserve([
        res(s, 'old', { cpu: 1 }, { fence: 3 }),
        res(s, 'new', { cpu: 1 }, { fence: 3, generation: s.generation + 1 }),
      ]);
      expect(old).toMatchObject({ ok: true });
      expect(recent).toMatchObject({ ok: false, reason: 'fenced' });
      expect(a).toBeDefined();
      await expect(fleet.pruneReleased(0)).rejects.toSatisfy((e) => isCtlplaneError(e, 'VALIDATION'));
    });

    it('counts group members per server', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      await fleet.reserve([
        res(a!, 'k1', { cpu: 1 }, { group: 'web' }),
        res(a!, 'k2', { cpu: 1 }, { group: 'web', generation: 2 }),
        res(a!, 'k3', { cpu: 1 }, { group: 'db', generation: 3 }),
      ]);
      expect((await fleet.get('a'))!.groups).toEqual({ web: 2, db: 1 });
      await fleet.release(['k1', 'k3']);
      expect((await fleet.get('a'))!.groups).toEqual({ web: 1 });
    });

    it('two handles racing on one generation: exactly one wins', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      const other = await ctx.peer();
      const out = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? other : fleet).reserve([res(a!, `k${i}`, { cpu: 1 })])),
      );
      expect(out.flat().filter((o) => o.ok)).toHaveLength(1);
      expect((await fleet.get('a'))!.allocated).toEqual({ cpu: 1 });
    });

    it('never overcommits under concurrent refresh-and-retry reservers', async () => {
      await fleet.upsert([hv('a', { capacity: { cpu: 10 } }), hv('b', { capacity: { cpu: 10 } })]);
      const handles = [fleet, await ctx.peer(), await ctx.peer()];
      let placed = 0;
      await Promise.all(
        handles.map(async (h, w) => {
          for (let i = 0; i < 12; i++) {
            for (let tries = 0; tries < 50; tries++) {
              const s = (await h.list()).find((x) => (x.allocated.cpu ?? 0) + 1 <= 10);
              if (!s) return;
              const [o] = await h.reserve([res(s, `w${w}-${i}`, { cpu: 1 })]);
              if (o!.ok) {
                placed++;
                break;
              }
            }
          }
        }),
      );
      const servers = await fleet.list();
      for (const s of servers) expect(s.allocated.cpu ?? 0).toBeLessThanOrEqual(10);
      const allocs = await fleet.allocations();
      expect(allocs).toHaveLength(placed);
      expect(placed).toBe(20);
      const sum = (id: string) =>
        allocs.filter((x) => x.serverId === id).reduce((n, x) => n + x.demand.cpu!, 0);
      for (const s of servers) expect(sum(s.id)).toBe(s.allocated.cpu ?? 0);
    });

    it('validates input: names, amounts, ratios, duplicate keys', async () => {
      const [a] = await fleet.upsert([hv('a')]);
      const bad = (p: Promise<unknown>) =>
        expect(p).rejects.toSatisfy((e) => isCtlplaneError(e, 'VALIDATION'));
      await bad(fleet.upsert([hv('x', { capacity: { 'c"pu': 1 } })]));
      await bad(fleet.upsert([hv('x', { capacity: { cpu: -1 } })]));
      await bad(fleet.upsert([hv('x', { capacity: { cpu: 1.5 } })]));
      await bad(fleet.reserve([res(a!, 'k', { cpu: 1 }, { ratios: { cpu: 0 } })]));
      await bad(fleet.reserve([res(a!, 'k', { cpu: 1 }, { group: 'bad"group' })]));
      await bad(fleet.reserve([res(a!, 'k', { cpu: 1 }), res(a!, 'k', { cpu: 1 })]));
      expect(await fleet.allocations()).toEqual([]);
    });

    it('refuses calls after close with a ClosedError; close is idempotent', async () => {
      const other = await ctx.peer();
      await other.close();
      await other.close();
      await expect(other.list()).rejects.toSatisfy((e) => isCtlplaneError(e, 'CLOSED'));
    });
  });
}
