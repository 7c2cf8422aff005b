import {
  antiAffinityFilter,
  type Filter,
  PlacementPipeline,
  PushMetricsSource,
  type Server,
} from '@ctlplane/core';
import { describe, expect, it } from 'vitest';

const server = (id: string, over: Partial<Server> = {}): Server => ({
  id,
  region: 'nyc1',
  state: 'active',
  capacity: { cpu: 4, memory: 16 },
  allocated: {},
  labels: {},
  groups: {},
  generation: 1,
  updatedAt: new Date(),
  ...over,
});

const request = (over: Record<string, unknown> = {}) => ({
  id: 'r1',
  region: 'nyc1',
  demand: { cpu: 2, memory: 4 },
  ...over,
});

/** Rejections of one explanation, by filter: { filter: { reason: count } }. */
function rejections(p: PlacementPipeline, req = request()) {
  const x = p.explain(req);
  return Object.fromEntries(
    x.filters
      .filter((f) => f.rejected > 0)
      .map((f) => [f.name, Object.fromEntries(f.reasons.map((r) => [r.reason, r.count]))]),
  );
}

describe('built-in filters', () => {
  it('state: only active servers', () => {
    const p = new PlacementPipeline();
    p.update([server('ok'), server('d', { state: 'draining' }), server('x', { state: 'down' })]);
    expect(rejections(p)).toEqual({ state: { 'server is draining': 1, 'server is down': 1 } });
    expect(p.explain(request()).selected).toBe('ok');
  });

  it('region: only the request region', () => {
    const p = new PlacementPipeline();
    p.update([server('ny'), server('sf', { region: 'sfo2' })]);
    expect(rejections(p)).toEqual({ region: { 'in region sfo2': 1 } });
  });

  it('capacity: usable capacity × overcommit ratio minus allocations must cover every resource', () => {
    const p = new PlacementPipeline({ overcommit: { cpu: 4 } });
    p.update([
      server('cpu-bound', { allocated: { cpu: 15 } }),
      server('mem-bound', { allocated: { memory: 13 } }),
      server('fits', { allocated: { cpu: 14, memory: 12 } }),
    ]);
    expect(rejections(p)).toEqual({ capacity: { 'insufficient cpu': 1, 'insufficient memory': 1 } });
    expect(p.explain(request()).selected).toBe('fits');
    // Without the 4:1 cpu ratio, nothing fits.
    const strict = new PlacementPipeline();
    strict.update([server('fits', { allocated: { cpu: 14, memory: 12 } })]);
    expect(strict.explain(request()).selected).toBeNull();
  });

  it('capacity: a resource no server has never fits', () => {
    const p = new PlacementPipeline();
    p.update([server('a')]);
    expect(rejections(p, request({ demand: { gpu: 1 } }))).toEqual({ capacity: { 'insufficient gpu': 1 } });
  });

  it('labels: every requested label with the same value', () => {
    const p = new PlacementPipeline();
    p.update([
      server('plain'),
      server('t4', { labels: { gpu: 't4' } }),
      server('a100', { labels: { gpu: 'a100' } }),
    ]);
    expect(rejections(p, request({ labels: { gpu: 'a100' } }))).toEqual({
      labels: { 'label gpu is not a100': 2 },
    });
    expect(p.explain(request({ labels: { gpu: 'a100' } })).selected).toBe('a100');
  });

  it('metric staleness: with the exclude policy, stale and missing metrics exclude a server', () => {
    const metrics = new PushMetricsSource();
    metrics.report('fresh', { node_load1: 1 });
    metrics.report('stale', { node_load1: 1 }, Date.now() - 10_000);
    const p = new PlacementPipeline({ metrics, staleness: { maxAgeMs: 5_000, policy: 'exclude' } });
    p.update([server('fresh'), server('stale'), server('none')]);
    expect(rejections(p)).toEqual({ 'metrics-fresh': { 'metrics stale': 1, 'metrics missing': 1 } });
    // With the penalise policy nothing is excluded.
    const lenient = new PlacementPipeline({ metrics, staleness: { maxAgeMs: 5_000, policy: 'penalise' } });
    lenient.update([server('stale')]);
    expect(lenient.explain(request()).selected).toBe('stale');
  });

  it('hard anti-affinity per server and per rack', () => {
    const fleet = [
      server('a1', { labels: { rack: 'a' }, groups: { db: 1 } }),
      server('a2', { labels: { rack: 'a' } }),
      server('b1', { labels: { rack: 'b' } }),
    ];
    const perServer = new PlacementPipeline({ filters: [antiAffinityFilter()] });
    perServer.update(fleet);
    expect(rejections(perServer, request({ group: 'db' }))).toEqual({
      'anti-affinity': { 'group db already on server': 1 },
    });
    const perRack = new PlacementPipeline({ filters: [antiAffinityFilter({ label: 'rack' })] });
    perRack.update(fleet);
    expect(rejections(perRack, request({ group: 'db' }))).toEqual({
      'anti-affinity:rack': { 'group db already in rack a': 2 },
    });
    expect(perRack.explain(request({ group: 'db' })).selected).toBe('b1');
    expect(perRack.explain(request()).feasible).toBe(3);
  });

  it('counts each server once, under the first filter that rejects it', () => {
    const p = new PlacementPipeline();
    p.update([server('x', { state: 'down', region: 'sfo2', allocated: { cpu: 4 } })]);
    const x = p.explain(request());
    expect(x.filters.map((f) => [f.name, f.rejected])).toEqual([
      ['state', 1],
      ['region', 0],
      ['capacity', 0],
      ['labels', 0],
    ]);
    expect(x.summary).toMatch(
      /no server fits request r1 in nyc1 among 1 servers: state rejected 1 \(server is down: 1\)/,
    );
  });
});

describe('custom filters', () => {
  const noCanary: Filter = {
    name: 'no-canary',
    test: (s) => s.labels.canary !== 'true',
    reason: () => 'canary server',
  };

  it('run after the built-ins, in the fast path and in explanations', () => {
    const p = new PlacementPipeline({ filters: [noCanary] });
    p.update([server('canary', { labels: { canary: 'true' } }), server('prod', { allocated: { cpu: 1 } })]);
    expect(p.filters.map((f) => f.name)).toEqual(['state', 'region', 'capacity', 'labels', 'no-canary']);
    expect(rejections(p)).toEqual({ 'no-canary': { 'canary server': 1 } });
    expect(p.dryRun([request(), request({ id: 'r2' })]).map((d) => d.serverId)).toEqual(['prod', null]);
  });

  it('get a default reason when they give none', () => {
    const p = new PlacementPipeline({ filters: [{ name: 'never', test: () => false }] });
    p.update([server('a')]);
    expect(rejections(p)).toEqual({ never: { 'rejected by never': 1 } });
  });
});
