/**
 * Shared output of every benchmark: a Markdown table printed to stdout, a section of
 * docs/benchmarks.md, and bench/results/<name>.json, all stamped with date, machine and command.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const loadText = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
/** The load average when the benchmark started (this module is loaded at its start). */
const loadAtStart = loadText();

/** What a benchmark reports. */
export interface BenchReport {
  /** Benchmark name: `store`, `scheduler`, … (the file name under bench/). */
  name: string;
  /** Title of the docs section. */
  title: string;
  /** Markdown tables and prose (ctlplane and its baseline side by side). */
  body: string;
  /** The machine-readable metrics the issue names. */
  metrics: Record<string, number>;
}

/** `nproc` cores, memory, CPU model, Node version. */
export function machine(): string {
  let nproc = String(cpus().length);
  try {
    nproc = execSync('nproc', { encoding: 'utf8' }).trim();
  } catch {}
  const gib = (totalmem() / 1024 ** 3).toFixed(1);
  return `${nproc} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${gib} GiB, Node ${process.version}`;
}

/** A Markdown table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const fmt = (v: string | number): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)) : v;
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}

/** The p-th percentile (0–100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Print the report and record it in docs/benchmarks.md and bench/results/<name>.json. */
export function writeReport(report: BenchReport): void {
  const date = new Date().toISOString();
  const command = process.env.CTLPLANE_BENCH_COMMAND ?? `npm run bench -- ${report.name}`;
  const m = machine();
  for (const [k, v] of Object.entries(report.metrics)) {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`metric ${k} is not a number: ${v}`);
  }
  const section = [
    `<!-- bench:${report.name}:start -->`,
    `## ${report.title}`,
    '',
    `- date: ${date}`,
    `- machine: ${m}`,
    `- command: \`${command}\``,
    `- load average (1 / 5 / 15 min): ${loadAtStart} when the run began, ${loadText()} when it ended`,
    '',
    report.body.trim(),
    `<!-- bench:${report.name}:end -->`,
  ].join('\n');
  console.log(`\n${section}\n`);

  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, `${report.name}.json`),
    `${JSON.stringify({ name: report.name, date, machine: m, command, metrics: report.metrics }, null, 2)}\n`,
  );

  const docPath = join(root, 'docs', 'benchmarks.md');
  let doc = existsSync(docPath)
    ? readFileSync(docPath, 'utf8')
    : '# Benchmarks\n\nEvery figure here was written by a script under `bench/` (`npm run bench -- <name>`), with ctlplane and its baseline measured side by side in the same run. Machine-readable results: `bench/results/<name>.json`.\n';
  const re = new RegExp(`<!-- bench:${report.name}:start -->[\\s\\S]*?<!-- bench:${report.name}:end -->`);
  doc = re.test(doc) ? doc.replace(re, section) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(docPath, doc);
}

/**
 * Put `body` between `<!-- marker:start -->` and `<!-- marker:end -->` in the Markdown file at
 * `path` (replacing what was there, or appending the section); does nothing if the file is absent.
 */
export function writeDocSection(path: string, marker: string, body: string): void {
  if (!existsSync(path)) return;
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const section = `${start}\n${body}\n${end}`;
  const text = readFileSync(path, 'utf8');
  const re = new RegExp(`${start}[\\s\\S]*?${end}`);
  writeFileSync(path, re.test(text) ? text.replace(re, () => section) : `${text.trimEnd()}\n\n${section}\n`);
}
