import {
  antiAffinity,
  balancedAllocation,
  leastAllocated,
  liveLoad,
  mostAllocated,
  PlacementPipeline,
  PushMetricsSource,
  type Server,
  type Strategy,
} from '@ctlplane/core';
import { describe, expect, it } from 'vitest';

const server = (id: string, over: Partial<Server> = {}): Server => ({
  id,
  region: 'nyc1',
  state: 'active',
  capacity: { cpu: 10, memory: 100 },
  allocated: {},
  labels: {},
  groups: {},
  generation: 1,
  updatedAt: new Date(),
  ...over,
});

/** The raw score of every strategy of one explanation candidate. */
function scores(p: PlacementPipeline, demand: Record<string, number>, extra: { group?: string } = {}) {
  const x = p.explain({ id: 'r', region: 'nyc1', demand, ...extra });
  return Object.fromEntries(
    x.candidates.map((c) => [c.serverId, Object.fromEntries(c.strategies.map((s) => [s.name, s.raw]))]),
  );
}

describe('allocation strategies', () => {
  const fleet = [
    server('empty'),
    server('half', { allocated: { cpu: 5, memory: 50 } }),
    server('skewed', { allocated: { cpu: 8, memory: 20 } }),
  ];

  it('least-allocated scores 100 × (1 − mean utilisation after placing)', () => {
    const p = new PlacementPipeline({ strategies: [leastAllocated()] });
    p.update(fleet);
    const s = scores(p, { cpu: 1, memory: 10 });
    expect(s.empty!['least-allocated']).toBeCloseTo(100 * (1 - (0.1 + 0.1) / 2));
    expect(s.half!['least-allocated']).toBeCloseTo(100 * (1 - (0.6 + 0.6) / 2));
    expect(s.skewed!['least-allocated']).toBeCloseTo(100 * (1 - (0.9 + 0.3) / 2));
    expect(p.explain({ id: 'r', region: 'nyc1', demand: { cpu: 1 } }).selected).toBe('empty');
  });

  it('most-allocated scores 100 × mean utilisation after placing, and bin-packs', () => {
    const p = new PlacementPipeline({ strategies: [mostAllocated()] });
    p.update(fleet);
    const s = scores(p, { cpu: 1, memory: 10 });
    expect(s.half!['most-allocated']).toBeCloseTo(60);
    expect(s.skewed!['most-allocated']).toBeCloseTo(60);
    expect(p.explain({ id: 'r', region: 'nyc1', demand: { cpu: 2, memory: 50 } }).selected).toBe('half');
  });

  it('balanced allocation scores 100 × (1 − std of the utilisations)', () => {
    const p = new PlacementPipeline({ strategies: [balancedAllocation()] });
    p.update(fleet);
    const s = scores(p, { cpu: 1, memory: 10 });
    expect(s.empty!['balanced-allocation']).toBeCloseTo(100);
    expect(s.skewed!['balanced-allocation']).toBeCloseTo(100 * (1 - 0.3));
  });

  it('considers only the named resources when given, and caps utilisation at 1', () => {
    const p = new PlacementPipeline({ strategies: [leastAllocated({ resources: ['cpu'] })] });
    p.update([server('a', { allocated: { cpu: 10 } })]);
    const [c] = p.explain({ id: 'r', region: 'nyc1', demand: {} }).candidates;
    expect(c!.strategies[0]!.raw).toBe(0);
  });

  it('rejects a non-positive weight', () => {
    expect(() => leastAllocated({ weight: 0 })).toThrow(RangeError);
    expect(() => mostAllocated({ weight: -1 })).toThrow(RangeError);
  });
});

describe('live load', () => {
  it('scores 100 × (1 − load / saturation); stale or missing metrics score 0 when penalised', () => {
    const metrics = new PushMetricsSource();
    metrics.report('idle', { node_load1: 1 });
    metrics.report('busy', { node_load1: 8 });
    metrics.report('stale', { node_load1: 0 }, Date.now() - 120_000);
    const p = new PlacementPipeline({
      strategies: [liveLoad()],
      metrics,
      staleness: { maxAgeMs: 60_000, policy: 'penalise' },
    });
    p.update([server('idle'), server('busy'), server('stale'), server('missing')]);
    const s = scores(p, { cpu: 1 });
    expect(s.idle!['live-load']).toBeCloseTo(90);
    expect(s.busy!['live-load']).toBeCloseTo(20);
    expect(s.stale!['live-load']).toBe(0);
    expect(s.missing!['live-load']).toBe(0);
  });

  it('re-ranks as soon as pushed metrics change', () => {
    const metrics = new PushMetricsSource();
    metrics.report('a', { node_load1: 0 });
    metrics.report('b', { node_load1: 9 });
    const p = new PlacementPipeline({
      strategies: [liveLoad({ metric: 'node_load1', saturation: 10 })],
      metrics,
    });
    p.update([server('a'), server('b')]);
    const req = { id: 'r', region: 'nyc1', demand: { cpu: 1 } };
    expect(p.dryRun([req])[0]!.serverId).toBe('a');
    metrics.report('a', { node_load1: 10 });
    metrics.report('b', { node_load1: 1 });
    expect(p.dryRun([req])[0]!.serverId).toBe('b');
  });
});

describe('anti-affinity', () => {
  const fleet = [
    server('a1', { labels: { rack: 'a' }, groups: { web: 1 } }),
    server('a2', { labels: { rack: 'a' } }),
    server('b1', { labels: { rack: 'b' } }),
  ];

  it('per server: 100 / (1 + members on the server); no group scores 100', () => {
    const p = new PlacementPipeline({ strategies: [antiAffinity()] });
    p.update(fleet);
    const s = scores(p, { cpu: 1 }, { group: 'web' });
    expect(s.a1!['anti-affinity']).toBeCloseTo(50);
    expect(s.a2!['anti-affinity']).toBe(100);
    expect(scores(p, { cpu: 1 }).a1!['anti-affinity']).toBe(100);
  });

  it('per rack label: members anywhere in the rack count', () => {
    const p = new PlacementPipeline({ strategies: [antiAffinity({ scope: { label: 'rack' } })] });
    p.update(fleet);
    const s = scores(p, { cpu: 1 }, { group: 'web' });
    expect(s.a2!['anti-affinity:rack']).toBeCloseTo(50);
    expect(s.b1!['anti-affinity:rack']).toBe(100);
    expect(p.explain({ id: 'r', region: 'nyc1', demand: { cpu: 1 }, group: 'web' }).selected).toBe('b1');
  });

  it('spreads a group placed in a dry run over racks', () => {
    const p = new PlacementPipeline({ strategies: [antiAffinity({ scope: { label: 'rack' } })] });
    p.update([
      server('a1', { labels: { rack: 'a' } }),
      server('a2', { labels: { rack: 'a' } }),
      server('b1', { labels: { rack: 'b' } }),
    ]);
    const plan = p.dryRun(
      [1, 2].map((i) => ({ id: `r${i}`, region: 'nyc1', demand: { cpu: 1 }, group: 'db' })),
    );
    const racks = plan.map((x) => (x.serverId === 'b1' ? 'b' : 'a'));
    expect(new Set(racks).size).toBe(2);
  });
});

describe('custom strategies', () => {
  it('mixes a user strategy into the weighted mean, with its contribution explained', () => {
    const preferNew: Strategy = {
      name: 'prefer-new-hardware',
      weight: 3,
      score: (s) => (s.labels.gen === '5' ? 100 : 0),
    };
    const p = new PlacementPipeline({ strategies: [leastAllocated({ weight: 1 }), preferNew] });
    p.update([server('old'), server('new', { labels: { gen: '5' }, allocated: { cpu: 5, memory: 50 } })]);
    const x = p.explain({ id: 'r', region: 'nyc1', demand: { cpu: 1 } });
    expect(x.selected).toBe('new');
    const best = x.candidates[0]!;
    expect(best.strategies.find((s) => s.name === 'prefer-new-hardware')).toMatchObject({
      raw: 100,
      contribution: 75,
    });
    expect(best.score).toBeCloseTo(best.strategies.reduce((n, s) => n + s.contribution, 0));
  });

  it('clamps scores outside 0..100 and treats NaN as 0', () => {
    const wild: Strategy = { name: 'wild', weight: 1, score: (s) => (s.id === 'a' ? 1e9 : Number.NaN) };
    const p = new PlacementPipeline({ strategies: [wild] });
    p.update([server('a'), server('b')]);
    const raw = Object.fromEntries(
      p.explain({ id: 'r', region: 'nyc1', demand: {} }).candidates.map((c) => [c.serverId, c.score]),
    );
    expect(raw).toEqual({ a: 100, b: 0 });
  });

  it('refuses two strategies with one name', () => {
    expect(() => new PlacementPipeline({ strategies: [leastAllocated(), leastAllocated()] })).toThrow(
      /twice/,
    );
  });
});
