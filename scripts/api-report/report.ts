/**
 * The API reports of every entry point, as they are now, beside the committed ones in etc/.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitDeclarations } from './declarations.js';
import { ENTRY_POINTS, type EntryPoint, uncoveredSubpaths } from './entry-points.js';
import { extractReport } from './extract.js';

/** The committed reports' folder, relative to the repository root. */
export const REPORT_DIR = 'etc';

/** One entry point's report now, and as committed (null when there is none). */
export interface Report {
  readonly entry: EntryPoint;
  readonly current: string;
  readonly committed: string | null;
}

/** Every report, and everything that is wrong beyond a changed report. */
export interface Reports {
  readonly reports: readonly Report[];
  /** Uncovered subpaths, API Extractor warnings, stray files in etc/. */
  readonly problems: readonly string[];
}

/** Build every entry point's report from the sources and read the committed one beside it. */
export function buildReports(root: string): Reports {
  const scratch = mkdtempSync(join(tmpdir(), 'ctlplane-api-'));
  try {
    const decls = emitDeclarations(root, join(scratch, 'decl'));
    const problems = [...uncoveredSubpaths(root)];
    const texts = ENTRY_POINTS.map((entry) => {
      const { text, problems: found } = extractReport(root, entry, decls, join(scratch, 'reports'));
      problems.push(...found);
      return text;
    });
    const reports = ENTRY_POINTS.map((entry, i): Report => {
      const siblings = texts.filter((_, j) => j !== i && ENTRY_POINTS[j]!.pkg === entry.pkg);
      const current = dropCrossEntryNotes(texts[i]!, new Set(siblings.flatMap(exportedNames)));
      const file = join(root, REPORT_DIR, entry.report);
      return { entry, current, committed: existsSync(file) ? readFileSync(file, 'utf8') : null };
    });
    const known = new Set(ENTRY_POINTS.map((e) => e.report));
    const dir = join(root, REPORT_DIR);
    for (const f of existsSync(dir) ? readdirSync(dir) : []) {
      if (f.endsWith('.api.md') && !known.has(f))
        problems.push(`${REPORT_DIR}/${f} belongs to no entry point`);
    }
    return { reports, problems };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const EXPORT =
  /^export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|enum|namespace) (\w+)/gm;

/** The names a report's entry point exports. */
function exportedNames(report: string): string[] {
  return [...report.matchAll(EXPORT)].map((m) => m[1]!);
}

/**
 * API Extractor notes every type a signature uses that its entry point does not export. A type
 * another entry point of the same package exports (`JsonValue` in a `@ctlplane/core/driver`
 * signature) is not forgotten: drop its note. A type no entry point exports keeps it.
 */
function dropCrossEntryNotes(report: string, elsewhere: ReadonlySet<string>): string {
  return report
    .replace(
      /^[ \t]*\/\/ Warning: \(ae-forgotten-export\) The symbol "(\w+)" needs to be exported by the entry point [\w.]+\n/gm,
      (line, name: string) => (elsewhere.has(name) ? '' : line),
    )
    .replace(/\n\n\/\/\n(?=\/\/ @)/g, '\n\n');
}

/** The first lines where `a` and `b` differ, as a short unified-style excerpt. */
export function firstDifference(a: string, b: string, context = 3): string {
  const x = a.split('\n');
  const y = b.split('\n');
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const from = Math.max(0, i - context);
  const show = (lines: string[], sign: string) => lines.slice(i, i + context + 1).map((l) => `${sign} ${l}`);
  return [
    `@@ line ${i + 1}`,
    ...x.slice(from, i).map((l) => `  ${l}`),
    ...show(x, '-'),
    ...show(y, '+'),
  ].join('\n');
}
