/**
 * The fast path: walk the region's score index from the best bucket down, skip buckets whose
 * capacity bound cannot fit the request, run the filters on members, score the feasible ones
 * exactly, and stop once `top` unpenalised candidates are found (plus a few random samples).
 * Falls back to scanning the whole region only when nothing fits, so "nothing fits" is exact.
 *
 * @internal
 * @module
 */
import type { FleetView } from '../view/fleet-view.js';
import type { Partition } from '../view/score-index.js';
import type { ServerEntry } from '../view/server-entry.js';
import { combinedScore } from './score.js';
import type { Filter, RequestView, Strategy } from './types.js';

/** @internal A feasible server and its exact combined score. */
export interface Ranked {
  readonly entry: ServerEntry;
  readonly score: number;
}

/** @internal How far the fast path looks. */
export interface RankLimits {
  /** Unpenalised feasible candidates to collect before stopping. */
  readonly top: number;
  /** Extra random members of the region to consider. */
  readonly sample: number;
  /** Members examined after which the walk stops once anything feasible was found. */
  readonly maxScan: number;
}

/**
 * A candidate whose exact score fell this much further below its index estimate than the least
 * drop seen is "penalised" (e.g. by anti-affinity) and does not count towards `top`.
 */
const PENALTY_SLACK = 5;

let walk = 0;

/** @internal True when every filter accepts the server. */
export function passes(e: ServerEntry, r: RequestView, view: FleetView, filters: readonly Filter[]): boolean {
  for (let i = 0; i < filters.length; i++) if (!filters[i]!.test(e, r, view)) return false;
  return true;
}

/** @internal One walk's state. */
class Walk {
  readonly out: Ranked[] = [];
  minDrop = Number.POSITIVE_INFINITY;
  counted = 0;
  readonly #totalWeight: number;
  readonly #id = ++walk;

  constructor(
    readonly r: RequestView,
    readonly view: FleetView,
    readonly filters: readonly Filter[],
    readonly strategies: readonly Strategy[],
    readonly exclude: ReadonlySet<ServerEntry> | undefined,
  ) {
    this.#totalWeight = strategies.reduce((n, s) => n + s.weight, 0);
  }

  consider(e: ServerEntry): void {
    if (e.seen === this.#id || this.exclude?.has(e)) return;
    e.seen = this.#id;
    // The capacity filter, inlined: it rejects most and is the cheapest to run here.
    const { need, needSlots } = this.r;
    for (let k = 0; k < needSlots.length; k++) {
      const i = needSlots[k]!;
      if ((e.usable[i] ?? 0) - (e.used[i] ?? 0) < need[i]!) return;
    }
    if (!passes(e, this.r, this.view, this.filters)) return;
    const score = combinedScore(e, this.r, this.view, this.strategies, this.#totalWeight);
    this.out.push({ entry: e, score });
    const drop = e.estimate - score;
    if (drop < this.minDrop) {
      const old = this.minDrop;
      this.minDrop = drop;
      if (old - drop > 1e-9 && this.counted > 0) this.#recount();
      else this.counted++;
    } else if (drop <= this.minDrop + PENALTY_SLACK) this.counted++;
  }

  #recount(): void {
    let n = 0;
    for (const c of this.out) if (c.entry.estimate - c.score <= this.minDrop + PENALTY_SLACK) n++;
    this.counted = n;
  }
}

/** Candidates collected per shape class at least. */
const MIN_PER_CLASS = 2;

/** Walk one partition from its best bucket down, until `budget` unpenalised candidates. */
function walkPartition(p: Partition, w: Walk, budget: number, limits: RankLimits, scanned: number): number {
  const goal = w.counted + budget;
  while (p.top >= 0 && p.buckets[p.top]!.length === 0) p.top--;
  for (let b = p.top; b >= 0; b--) {
    const bucket = p.buckets[b]!;
    if (bucket.length === 0 || !p.mayFit(b, w.r.need, w.r.needSlots)) continue;
    let i = 0;
    for (; i < bucket.length && w.counted < goal; i++) w.consider(bucket[i]!);
    scanned += i;
    if (i === bucket.length) p.tighten(b);
    if (w.counted >= goal || (scanned >= limits.maxScan && w.out.length > 0)) break;
  }
  return scanned;
}

/** @internal Feasible candidates for `r`, best first. */
export function rank(
  view: FleetView,
  r: RequestView,
  filters: readonly Filter[],
  strategies: readonly Strategy[],
  limits: RankLimits,
  random: () => number,
  exclude?: ReadonlySet<ServerEntry>,
): Ranked[] {
  const region = view.region(r.region);
  if (!region) return [];
  const w = new Walk(r, view, filters, strategies, exclude);
  const budget = Math.max(MIN_PER_CLASS, Math.ceil(limits.top / Math.max(1, region.classes.length)));
  let scanned = 0;
  for (let c = 0; c < region.classes.length; c++) {
    scanned = walkPartition(region.classes[c]!, w, budget, limits, scanned);
  }
  for (let k = 0; k < limits.sample; k++) {
    const e = region.sample(random);
    if (e) w.consider(e);
  }
  return sortBest(w.out);
}

/** Best first; an insertion sort: the lists are short and it allocates nothing. */
function sortBest(out: Ranked[]): Ranked[] {
  for (let i = 1; i < out.length; i++) {
    const x = out[i]!;
    let j = i - 1;
    while (j >= 0 && better(x, out[j]!)) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = x;
  }
  return out;
}

function better(a: Ranked, b: Ranked): boolean {
  return a.score > b.score || (a.score === b.score && a.entry.estimate > b.entry.estimate);
}

/** @internal Pick one of the best `k` (k ≤ 1: the best). */
export function choose(ranked: readonly Ranked[], k: number, random: () => number): number {
  if (ranked.length === 0) return -1;
  return k <= 1 ? 0 : Math.floor(random() * Math.min(k, ranked.length));
}
