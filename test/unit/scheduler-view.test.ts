import { leastAllocated, type ReserveOutcome, type Server } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { FleetView } from '../../packages/core/src/scheduler/view/fleet-view.js';

const server = (over: Partial<Server> = {}): Server => ({
  id: 'a',
  region: 'nyc1',
  state: 'active',
  capacity: { cpu: 10 },
  allocated: {},
  labels: {},
  groups: {},
  generation: 1,
  updatedAt: new Date(),
  ...over,
});

function setup(initial: Partial<Server> = {}) {
  const view = new FleetView({
    strategies: [leastAllocated()],
    ratios: {},
    metrics: null,
    maxMetricsAgeMs: 1,
    excludeStale: false,
    jitter: 0,
    seed: 's',
  });
  view.apply(server(initial));
  const e = view.entries.get('a')!;
  const req = (id: string, cpu: number, group: string | null = null) =>
    view.compile({ id, region: 'nyc1', demand: { cpu }, group });
  const ok = (gen: number): ReserveOutcome => ({ ok: true, key: 'k', serverId: 'a', generation: gen });
  const lost = (fresh: Server | null): ReserveOutcome => ({
    ok: false,
    key: 'k',
    serverId: 'a',
    reason: 'conflict',
    server: fresh,
  });
  return { view, e, req, ok, lost };
}

describe('FleetView holds', () => {
  it('chains holds on one server: each expects the generation after the previous one', () => {
    const { view, e, req, ok } = setup();
    const h1 = view.hold(e, req('1', 2, 'web'));
    const h2 = view.hold(e, req('2', 3));
    expect([h1.generation, h2.generation]).toEqual([1, 2]);
    expect([...e.used]).toEqual([5]);
    expect(e.groupCount('web')).toBe(1);
    expect(view.isCurrent(h1) && view.isCurrent(h2)).toBe(true);
    view.settle(h1, ok(2));
    view.settle(h2, ok(3));
    expect([e.baseGeneration, e.generation, [...e.baseUsed], [...e.used]]).toEqual([3, 3, [5], [5]]);
    expect(e.groupCount('web')).toBe(1);
  });

  it('a failed hold takes every later hold on the server with it', () => {
    const { view, e, req, lost } = setup();
    const h1 = view.hold(e, req('1', 2));
    const h2 = view.hold(e, req('2', 3, 'db'));
    view.settle(h1, lost(null));
    expect(view.isCurrent(h2)).toBe(false);
    expect([...e.used]).toEqual([0]);
    expect(e.groupCount('db')).toBe(0);
    // A new hold chains from the confirmed state again, not from the doomed one.
    const h3 = view.hold(e, req('3', 1));
    expect(h3.generation).toBe(1);
    expect(view.isCurrent(h3)).toBe(true);
    view.settle(h2, lost(null)); // its own answer arrives later: nothing more to undo
    expect([...e.used]).toEqual([1]);
  });

  it('never takes another writer’s change for its own: the doomed chain cannot resurrect', () => {
    const { view, e, req, lost, ok } = setup();
    const a = view.hold(e, req('a', 1));
    const b = view.hold(e, req('b', 1));
    // Another scheduler moved the server to generation 2 (with 6 cpu allocated): `a` lost.
    view.settle(a, lost(server({ generation: 2, allocated: { cpu: 6 } })));
    // `b` expected generation 2 — which the server now is — but it was decided on `a`: not current.
    expect(view.isCurrent(b)).toBe(false);
    view.settle(b, lost(null));
    expect([e.baseGeneration, [...e.used]]).toEqual([2, [6]]);
    const c = view.hold(e, req('c', 1));
    view.settle(c, ok(3));
    expect([e.baseGeneration, [...e.used]]).toEqual([3, [7]]);
  });

  it('defers a refreshed state while holds are in flight, then applies it if newer', () => {
    const { view, e, req, ok } = setup();
    const h = view.hold(e, req('1', 2));
    view.apply(server({ generation: 3, allocated: { cpu: 7 } })); // h plus another writer's 5
    expect([...e.used]).toEqual([2]);
    view.settle(h, ok(2));
    expect([e.baseGeneration, [...e.used]]).toEqual([3, [7]]);
    // An older state never rolls the view back.
    view.apply(server({ generation: 2, allocated: { cpu: 2 } }));
    expect([...e.used]).toEqual([7]);
  });

  it('a dropped hold (unknown outcome) is simply undone', () => {
    const { view, e, req } = setup();
    const h = view.hold(e, req('1', 4));
    view.settle(h, null);
    expect([e.generation, [...e.used], e.holds.length]).toEqual([1, [0], 0]);
  });

  it('takes the index out of a server that stops being active, and back in', () => {
    const { view } = setup();
    expect(view.region('nyc1')!.size).toBe(1);
    view.apply(server({ generation: 2, state: 'draining' }));
    expect(view.region('nyc1')!.size).toBe(0);
    view.apply(server({ generation: 3, state: 'active', region: 'sfo2' }));
    expect([view.region('nyc1')!.size, view.region('sfo2')!.size]).toEqual([0, 1]);
  });
});
