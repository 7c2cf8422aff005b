/**
 * Live load from metrics, and soft anti-affinity.
 *
 * @module
 */
import type { AntiAffinityScope } from '../filters/builtin.js';
import type { CandidateServer, SchedulingContext, Strategy } from '../pipeline/types.js';
import { checkWeight } from './allocation.js';

/** Options of {@link liveLoad}. */
export interface LiveLoadOptions {
  /** Relative weight (default 1). */
  weight?: number;
  /** The metric to read (default `node_load1`). */
  metric?: string;
  /**
   * The value at which the server counts as saturated: a number, or a function of the server
   * (default: the server's `cpu` capacity, or 1 when it has none).
   */
  saturation?: number | ((server: CandidateServer) => number);
}

/**
 * Prefer servers that are idle right now: `score = 100 × (1 − min(1, value / saturation))`.
 * A server with missing or stale metrics scores 0 (the `penalise` staleness policy; with
 * `exclude` such servers never reach scoring).
 */
export function liveLoad(options: LiveLoadOptions = {}): Strategy {
  const weight = checkWeight(options.weight);
  const metric = options.metric ?? 'node_load1';
  const sat = options.saturation ?? ((s: CandidateServer) => s.capacity.cpu ?? 1);
  const score = (s: CandidateServer, ctx: SchedulingContext): number => {
    if (ctx.metricsStale(s)) return 0;
    const v = s.metrics?.values[metric];
    if (v === undefined) return 0;
    const max = typeof sat === 'number' ? sat : sat(s);
    return max > 0 ? 100 * (1 - Math.min(1, Math.max(0, v) / max)) : 0;
  };
  return { name: 'live-load', weight, score: (s, _r, ctx) => score(s, ctx) };
}

/** Options of {@link antiAffinity}. */
export interface AntiAffinityOptions {
  /** Relative weight (default 1). */
  weight?: number;
  /** `server` (default) or `{ label: 'rack' }`: members counted per server or per label value. */
  scope?: AntiAffinityScope;
}

/**
 * Soft anti-affinity: `score = 100 / (1 + n)`, n the members of the request's group already on
 * the server (or in its rack). Requests without a group score 100 everywhere. For a hard rule use
 * `antiAffinityFilter`.
 */
export function antiAffinity(options: AntiAffinityOptions = {}): Strategy {
  const weight = checkWeight(options.weight);
  const scope = options.scope ?? 'server';
  const label = typeof scope === 'string' ? null : scope.label;
  return {
    name: label === null ? 'anti-affinity' : `anti-affinity:${label}`,
    weight,
    score: (s, r, ctx) => {
      if (!r.group) return 100;
      const v = label === null ? undefined : s.labels[label];
      const n = v === undefined ? s.groupCount(r.group) : ctx.groupInDomain(r.group, label!, v);
      return 100 / (1 + n);
    },
  };
}
