/**
 * Every published entry point of both packages, with the source it is built from and the API
 * report that records its surface. A subpath in a package.json `exports` map without an entry here
 * (or the reverse) is an error, so a new entry point cannot ship without a report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One entry point: `@ctlplane/<pkg><subpath>`. */
export interface EntryPoint {
  /** The package folder under packages/. */
  readonly pkg: 'core' | 'adapters';
  /** The `exports` key: `.` or `./driver`. */
  readonly subpath: string;
  /** Its source, relative to the package folder. */
  readonly source: string;
  /** Its report, in etc/. */
  readonly report: string;
}

const adapters = ['memory', 'mysql', 'amqp', 'ws', 'prometheus'].map(
  (name): EntryPoint => ({
    pkg: 'adapters',
    subpath: `./${name}`,
    source: `src/${name}/index.ts`,
    report: `adapters-${name}.api.md`,
  }),
);

/** The entry points, in report order. */
export const ENTRY_POINTS: readonly EntryPoint[] = [
  { pkg: 'core', subpath: '.', source: 'src/index.ts', report: 'core.api.md' },
  { pkg: 'core', subpath: './driver', source: 'src/driver/index.ts', report: 'core-driver.api.md' },
  ...adapters,
];

/** The import specifier of an entry point, e.g. `@ctlplane/core/driver`. */
export function specifier(e: EntryPoint): string {
  return `@ctlplane/${e.pkg}${e.subpath === '.' ? '' : e.subpath.slice(1)}`;
}

/** Subpaths exported by a package.json but missing here, and listed here but not exported. */
export function uncoveredSubpaths(root: string): string[] {
  const problems: string[] = [];
  for (const pkg of ['core', 'adapters'] as const) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const exported = Object.keys(manifest.exports).filter((k) => k !== './package.json');
    const listed = ENTRY_POINTS.filter((e) => e.pkg === pkg).map((e) => e.subpath);
    for (const k of exported.filter((k) => !listed.includes(k)))
      problems.push(`@ctlplane/${pkg} exports ${k}, which has no API report: add it to ENTRY_POINTS`);
    for (const k of listed.filter((k) => !exported.includes(k)))
      problems.push(`ENTRY_POINTS lists @ctlplane/${pkg} ${k}, which its package.json does not export`);
  }
  return problems;
}
