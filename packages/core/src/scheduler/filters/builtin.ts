/**
 * The built-in hard constraints: server state, region, capacity, labels and metric staleness.
 * State, region and capacity always apply; labels and staleness are added by the scheduler when
 * requests carry labels and a staleness policy excludes.
 *
 * @module
 */
import type { Filter } from '../pipeline/types.js';

/** Only `active` servers take new placements. */
export function stateFilter(): Filter {
  return {
    name: 'state',
    test: (s) => s.state === 'active',
    reason: (s) => `server is ${s.state}`,
  };
}

/** Only servers of the request's region. */
export function regionFilter(): Filter {
  return {
    name: 'region',
    test: (s, r) => s.region === r.region,
    reason: (s) => `in region ${s.region}`,
  };
}

/** Usable capacity (capacity × overcommit ratio) minus allocations must cover the demand. */
export function capacityFilter(): Filter {
  return {
    name: 'capacity',
    test: (s, r) => {
      for (let k = 0; k < r.needSlots.length; k++) {
        const i = r.needSlots[k]!;
        if ((s.usable[i] ?? 0) - (s.used[i] ?? 0) < r.need[i]!) return false;
      }
      return true;
    },
    reason: (s, r, ctx) => {
      const short = r.needSlots.filter((i) => (s.usable[i] ?? 0) - (s.used[i] ?? 0) < r.need[i]!);
      return `insufficient ${short.map((i) => ctx.resources[i]).join(', ')}`;
    },
  };
}

/** The server must carry every label of the request with the same value. */
export function labelsFilter(): Filter {
  return {
    name: 'labels',
    test: (s, r) => {
      if (!r.labels) return true;
      for (const k in r.labels) if (s.labels[k] !== r.labels[k]) return false;
      return true;
    },
    reason: (s, r) => {
      const miss = Object.entries(r.labels ?? {}).find(([k, v]) => s.labels[k] !== v);
      return miss ? `label ${miss[0]} is not ${miss[1]}` : 'labels';
    },
  };
}

/** Servers whose metrics are missing or older than the staleness limit are excluded. */
export function metricsFreshFilter(): Filter {
  return {
    name: 'metrics-fresh',
    test: (s, _r, ctx) => !ctx.metricsStale(s),
    reason: (s) => (s.metrics ? 'metrics stale' : 'metrics missing'),
  };
}

/** Where anti-affinity applies: one server, or every server sharing a label value (a rack). */
export type AntiAffinityScope = 'server' | { readonly label: string };

/**
 * Hard anti-affinity: no two members of a request's group on one server (or, with
 * `{ label: 'rack' }`, in one rack). Exact across instances at server scope (it is re-checked by
 * the reservation's generation); best effort across instances at label scope.
 */
export function antiAffinityFilter(scope: AntiAffinityScope = 'server'): Filter {
  const label = typeof scope === 'string' ? null : scope.label;
  const count = (s: Parameters<Filter['test']>[0], group: string, ctx: Parameters<Filter['test']>[2]) => {
    if (label === null) return s.groupCount(group);
    const v = s.labels[label];
    return v === undefined ? s.groupCount(group) : ctx.groupInDomain(group, label, v);
  };
  return {
    name: label === null ? 'anti-affinity' : `anti-affinity:${label}`,
    test: (s, r, ctx) => !r.group || count(s, r.group, ctx) === 0,
    reason: (s, r) =>
      label === null
        ? `group ${r.group} already on server`
        : `group ${r.group} already in ${label} ${s.labels[label]}`,
  };
}
