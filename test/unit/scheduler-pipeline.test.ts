import {
  antiAffinity,
  balancedAllocation,
  leastAllocated,
  mostAllocated,
  PlacementPipeline,
  type Server,
} from '@ctlplane/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const server = (id: string, over: Partial<Server> = {}): Server => ({
  id,
  region: 'nyc1',
  state: 'active',
  capacity: { cpu: 8, memory: 32 },
  allocated: {},
  labels: {},
  groups: {},
  generation: 1,
  updatedAt: new Date(),
  ...over,
});

const arbServer = fc.record({
  shape: fc.constantFrom({ cpu: 8, memory: 32 }, { cpu: 16, memory: 64 }, { cpu: 32, memory: 256 }),
  usedCpu: fc.nat(40),
  usedMem: fc.nat(300),
  region: fc.constantFrom('nyc1', 'sfo2'),
  state: fc.constantFrom('active', 'active', 'active', 'draining'),
  rack: fc.constantFrom('r1', 'r2', 'r3'),
});
const arbRequest = fc.record({
  cpu: fc.integer({ min: 1, max: 20 }),
  memory: fc.integer({ min: 1, max: 200 }),
  region: fc.constantFrom('nyc1', 'sfo2'),
  group: fc.constantFrom(null, 'g1'),
});

describe('PlacementPipeline: fast path against the full scan', () => {
  it('finds a server exactly when the full scan finds one, and only ever a feasible one', () => {
    fc.assert(
      fc.property(
        fc.array(arbServer, { minLength: 1, maxLength: 60 }),
        fc.array(arbRequest, { minLength: 1, maxLength: 20 }),
        (specs, reqs) => {
          const p = new PlacementPipeline({
            strategies: [mostAllocated({ weight: 2 }), balancedAllocation(), antiAffinity()],
            overcommit: { cpu: 2 },
            candidates: 2,
            sample: 0,
          });
          p.update(
            specs.map((s, i) =>
              server(`s${i}`, {
                region: s.region,
                state: s.state as Server['state'],
                capacity: s.shape,
                allocated: {
                  cpu: Math.min(s.usedCpu, s.shape.cpu * 2),
                  memory: Math.min(s.usedMem, s.shape.memory),
                },
                labels: { rack: s.rack },
              }),
            ),
          );
          for (const [i, r] of reqs.entries()) {
            const req = {
              id: `r${i}`,
              region: r.region,
              demand: { cpu: r.cpu, memory: r.memory },
              group: r.group,
            };
            const x = p.explain(req);
            const [plan] = p.dryRun([req]);
            expect(plan!.serverId === null).toBe(x.feasible === 0);
            if (plan!.serverId !== null)
              expect(x.candidates.map((c) => c.serverId)).toContain(plan!.serverId);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('matches the full scan when it may look at every server', () => {
    fc.assert(
      fc.property(fc.array(arbServer, { minLength: 1, maxLength: 40 }), arbRequest, (specs, r) => {
        const p = new PlacementPipeline({
          strategies: [leastAllocated(), balancedAllocation()],
          candidates: 1_000,
          sample: 0,
        });
        p.update(
          specs.map((s, i) =>
            server(`s${i}`, {
              region: s.region,
              capacity: s.shape,
              allocated: { cpu: s.usedCpu % s.shape.cpu },
            }),
          ),
        );
        const x = p.explain({ id: 'r', region: r.region, demand: { cpu: r.cpu } });
        if (x.selected === null) return;
        expect(x.candidates.find((c) => c.serverId === x.selected)!.score).toBeCloseTo(
          x.candidates[0]!.score,
        );
      }),
      { numRuns: 150 },
    );
  });

  it('finds the best of each server shape although it scores only a few per request', () => {
    const fleet = Array.from({ length: 300 }, (_, i) =>
      server(`s${i}`, {
        capacity: i % 3 === 0 ? { cpu: 96, memory: 512 } : { cpu: 8, memory: 32 },
        allocated: { cpu: i % 7, memory: (i * 3) % 30 },
      }),
    );
    const p = new PlacementPipeline({ strategies: [leastAllocated()], candidates: 2, sample: 0 });
    p.update(fleet);
    for (const cpu of [1, 4, 7]) {
      const x = p.explain({ id: 'r', region: 'nyc1', demand: { cpu, memory: 4 } });
      expect(x.selected).toBe(x.candidates[0]!.serverId);
    }
  });
});

describe('PlacementPipeline: explain and dry run', () => {
  it('explains per filter and per candidate, with contributions adding up to the score', () => {
    const p = new PlacementPipeline({
      strategies: [leastAllocated({ weight: 3 }), balancedAllocation()],
      explainLimit: 2,
    });
    p.update([
      server('a'),
      server('b', { allocated: { cpu: 4, memory: 4 } }),
      server('c', { state: 'down' }),
      server('d', { region: 'ams3' }),
    ]);
    const x = p.explain({ id: 'e7', region: 'nyc1', demand: { cpu: 2, memory: 8 } });
    expect(x).toMatchObject({ requestId: 'e7', region: 'nyc1', servers: 4, feasible: 2, selected: 'a' });
    expect(x.candidates.map((c) => c.serverId)).toEqual(['a', 'b']);
    for (const c of x.candidates) {
      expect(c.strategies.map((s) => s.name)).toEqual(['least-allocated', 'balanced-allocation']);
      expect(c.strategies.reduce((n, s) => n + s.contribution, 0)).toBeCloseTo(c.score);
      expect(c.strategies[0]!.contribution).toBeCloseTo((3 * c.strategies[0]!.raw) / 4);
    }
    expect(x.summary).toMatch(/^would place on a \(score \d+\.\d; 2 of 4 servers feasible\)$/);
  });

  it('a dry run plans a sequence without changing anything', () => {
    const p = new PlacementPipeline({ strategies: [mostAllocated()] });
    p.update([server('a', { capacity: { cpu: 4 } }), server('b', { capacity: { cpu: 4 } })]);
    const reqs = Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, region: 'nyc1', demand: { cpu: 2 } }));
    const plan = p.dryRun(reqs);
    const placed = plan.filter((x) => x.serverId !== null);
    expect(placed).toHaveLength(4);
    expect(new Set(placed.map((x) => x.serverId)).size).toBe(2);
    expect(plan[4]!.explanation!.summary).toMatch(/capacity rejected 2 \(insufficient cpu: 2\)/);
    // Nothing was reserved: the view is as before, so the same plan again (up to ties).
    const again = p.dryRun(reqs);
    expect(again.filter((x) => x.serverId !== null)).toHaveLength(4);
    expect(p.explain(reqs[0]!).candidates.map((c) => c.score)).toEqual([50, 50]);
  });

  it('picks randomly among the best topK', () => {
    let i = 0;
    const seq = [0.1, 0.5, 0.9];
    const p = new PlacementPipeline({ topK: 3, sample: 0, random: () => seq[i++ % 3]! });
    p.update([
      server('a'),
      server('b', { allocated: { cpu: 1 } }),
      server('c', { allocated: { cpu: 2 } }),
      server('d', { allocated: { cpu: 3 } }),
    ]);
    const picks = new Set(
      Array.from(
        { length: 6 },
        () => p.dryRun([{ id: 'r', region: 'nyc1', demand: { cpu: 1 } }])[0]!.serverId,
      ),
    );
    expect(picks).toEqual(new Set(['a', 'b', 'c']));
  });

  it('ignores fleet states older than what it holds', () => {
    const p = new PlacementPipeline();
    p.update([server('a', { generation: 5, allocated: { cpu: 8 } })]);
    p.update([server('a', { generation: 4 })]);
    expect(p.explain({ id: 'r', region: 'nyc1', demand: { cpu: 1 } }).selected).toBeNull();
    p.update([server('a', { generation: 6 })]);
    expect(p.explain({ id: 'r', region: 'nyc1', demand: { cpu: 1 } }).selected).toBe('a');
    expect(p.size).toBe(1);
  });

  it('validates its options', () => {
    expect(() => new PlacementPipeline({ overcommit: { cpu: 0 } })).toThrow(/overcommit/);
    expect(() => new PlacementPipeline({ topK: 0 })).toThrow(/topK/);
  });
});
