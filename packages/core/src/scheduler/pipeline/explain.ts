/**
 * Explanations: a full scan of every server the instance knows, with each filter's rejections
 * grouped by reason and the best candidates broken down by strategy. The slow, complete path —
 * for operators and for the `failed` reason of an event that fits nowhere.
 *
 * @module
 */
import type { Resources } from '../../fleet/model.js';
import type { FleetView } from '../view/fleet-view.js';
import type { ServerEntry } from '../view/server-entry.js';
import { clamp } from './score.js';
import type { Filter, RequestView, Strategy } from './types.js';

/** How many servers one filter rejected, and why. */
export interface FilterReport {
  /** The filter. */
  readonly name: string;
  /** Servers it rejected (each server is counted by the first filter that rejects it). */
  readonly rejected: number;
  /** Rejections grouped by reason, most frequent first. */
  readonly reasons: readonly { readonly reason: string; readonly count: number }[];
}

/** One strategy's part in a candidate's score. */
export interface StrategyContribution {
  /** The strategy. */
  readonly name: string;
  /** Its weight. */
  readonly weight: number;
  /** Its score, 0..100. */
  readonly raw: number;
  /** `weight × raw / Σ weights`: the contributions of a candidate add up to its score. */
  readonly contribution: number;
}

/** A feasible server and why it ranks where it does. */
export interface CandidateReport {
  /** The server. */
  readonly serverId: string;
  /** Combined score, 0..100. */
  readonly score: number;
  /** Each strategy's part. */
  readonly strategies: readonly StrategyContribution[];
}

/** A structured explanation of one placement decision. */
export interface Explanation {
  /** The request's id. */
  readonly requestId: string;
  /** The request's region. */
  readonly region: string;
  /** What it asks for. */
  readonly demand: Resources;
  /** Servers examined (every server the instance knows). */
  readonly servers: number;
  /** Servers that passed every filter. */
  readonly feasible: number;
  /** Per filter, in pipeline order. */
  readonly filters: readonly FilterReport[];
  /** The best feasible servers, best first. */
  readonly candidates: readonly CandidateReport[];
  /** Where the scheduler would place the request now, or null when nothing fits. */
  readonly selected: string | null;
  /** One line for logs and for the `error` of a failed event. */
  readonly summary: string;
}

function candidate(
  e: ServerEntry,
  r: RequestView,
  view: FleetView,
  strategies: readonly Strategy[],
): CandidateReport {
  const total = strategies.reduce((n, s) => n + s.weight, 0) || 1;
  const parts = strategies.map((s) => {
    const raw = clamp(s.score(e, r, view));
    return { name: s.name, weight: s.weight, raw, contribution: (s.weight * raw) / total };
  });
  return { serverId: e.id, score: parts.reduce((n, p) => n + p.contribution, 0), strategies: parts };
}

/** Render the one-line summary of an explanation. */
export function summarise(x: Omit<Explanation, 'summary'>): string {
  if (x.selected !== null) {
    const best = x.candidates.find((c) => c.serverId === x.selected) ?? x.candidates[0];
    return `would place on ${x.selected} (score ${best ? best.score.toFixed(1) : '?'}; ${x.feasible} of ${x.servers} servers feasible)`;
  }
  const parts = x.filters
    .filter((f) => f.rejected > 0)
    .map(
      (f) =>
        `${f.name} rejected ${f.rejected} (${f.reasons
          .slice(0, 3)
          .map((r) => `${r.reason}: ${r.count}`)
          .join(', ')})`,
    );
  return `no server fits request ${x.requestId} in ${x.region} among ${x.servers} servers: ${parts.join('; ') || 'no servers known'}`;
}

/** @internal Explain `r` against every server in the view. */
export function explain(
  view: FleetView,
  r: RequestView,
  filters: readonly Filter[],
  strategies: readonly Strategy[],
  selected: string | null,
  limit: number,
): Explanation {
  const counts = filters.map(() => new Map<string, number>());
  const feasible: ServerEntry[] = [];
  for (const e of view.entries.values()) {
    const at = filters.findIndex((f) => !f.test(e, r, view));
    if (at < 0) {
      feasible.push(e);
      continue;
    }
    const f = filters[at]!;
    const reason = f.reason?.(e, r, view) ?? `rejected by ${f.name}`;
    counts[at]!.set(reason, (counts[at]!.get(reason) ?? 0) + 1);
  }
  const reports = filters.map((f, i) => {
    const reasons = [...counts[i]!]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count);
    return { name: f.name, rejected: reasons.reduce((n, x) => n + x.count, 0), reasons };
  });
  const candidates = feasible
    .map((e) => candidate(e, r, view, strategies))
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
  const chosen = selected ?? null;
  const base = {
    requestId: r.id,
    region: r.region,
    demand: r.demand,
    servers: view.entries.size,
    feasible: feasible.length,
    filters: reports,
    candidates:
      chosen && !candidates.some((c) => c.serverId === chosen)
        ? [...candidates, candidate(view.entries.get(chosen)!, r, view, strategies)]
        : candidates,
    selected: chosen,
  };
  return { ...base, summary: summarise(base) };
}
