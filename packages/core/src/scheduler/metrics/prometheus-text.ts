/**
 * A parser of the Prometheus text exposition format (version 0.0.4), enough for scraping node
 * metrics: comments skipped, labels canonicalised, malformed lines counted and skipped.
 *
 * @module
 */

/** What a parse found. */
export interface PrometheusParseResult {
  /**
   * Sample values by series: `name` for a series without labels, `name{a="x",b="y"}` (labels sorted
   * by name) otherwise. Non-finite values (`NaN`, `±Inf`) are dropped.
   */
  readonly values: Record<string, number>;
  /** Lines that could not be parsed. */
  readonly malformed: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseLabels(line: string, start: number): { labels: [string, string][]; end: number } | null {
  const labels: [string, string][] = [];
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const m = LABEL_NAME.exec(line.slice(i));
    if (!m) return null;
    i += m[0].length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=' || line[i + 1] !== '"') return null;
    i += 2;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) return null;
      if (c === '"') break;
      if (c === '\\') {
        const n = line[i + 1];
        value += n === 'n' ? '\n' : (n ?? '');
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels.push([m[0], value]);
    i++;
  }
}

/** Render a series key from its name and labels (sorted, values escaped like the exposition format). */
export function seriesKey(name: string, labels: readonly (readonly [string, string])[] = []): string {
  if (labels.length === 0) return name;
  const esc = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
  const sorted = [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}{${sorted.map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;
}

/**
 * Parse exposition text. `keep`, when given, selects metric names to keep (others are skipped
 * cheaply, before their labels are parsed).
 *
 * @example
 * ```ts
 * parsePrometheusText('# TYPE node_load1 gauge\nnode_load1 0.42\n').values; // { node_load1: 0.42 }
 * ```
 */
export function parsePrometheusText(text: string, keep?: (name: string) => boolean): PrometheusParseResult {
  const values: Record<string, number> = {};
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = NAME.exec(line);
    if (!m) {
      malformed++;
      continue;
    }
    const name = m[0];
    if (keep && !keep(name)) continue;
    let i = name.length;
    let labels: [string, string][] = [];
    if (line[i] === '{') {
      const parsed = parseLabels(line, i);
      if (!parsed) {
        malformed++;
        continue;
      }
      labels = parsed.labels;
      i = parsed.end;
    }
    const rest = line.slice(i).trim().split(/\s+/);
    const token = rest[0];
    if (token === undefined || token === '' || rest.length > 2) {
      malformed++;
      continue;
    }
    if (/^[+-]?Inf$/.test(token)) continue;
    const value = Number(token);
    if (Number.isNaN(value) && token !== 'NaN') {
      malformed++;
      continue;
    }
    if (Number.isFinite(value)) values[seriesKey(name, labels)] = value;
  }
  return { values, malformed };
}
