/**
 * `npm run check:pack`: what the registry would get. Packs `@ctlplane/core` and
 * `@ctlplane/adapters` (each `npm pack` builds first) and checks each tarball:
 *
 * - publint (`--strict`: a warning fails too) on the package.json fields and files;
 * - arethetypeswrong on every entry point under node10, node16 (from CJS and from ESM) and
 *   bundler resolution;
 * - the files: `package.json`, `README.md`, `LICENSE` and, under `dist/`, only what package.json
 *   points at (exports, typesVersions, bin) and what those files import (chunks) — no sourcemaps
 *   of unshipped sources, no unused builds.
 *
 * The smoke test (test/smoke/pack.test.ts) runs the same checks on the tarballs it installs, so
 * `npm test` and CI run them; this script is the quick way to run them alone.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'node_modules/.bin');

/** The published packages, by folder under packages/. */
export const PUBLISHED = ['core', 'adapters'] as const;

/** One packed tarball. */
export interface Packed {
  /** Folder under packages/. */
  readonly name: (typeof PUBLISHED)[number];
  /** Absolute path of the .tgz. */
  readonly tarball: string;
  /** Paths inside the package. */
  readonly files: readonly string[];
}

/** What one check found: empty `problems` means it passed. */
export interface CheckResult {
  readonly check: string;
  readonly problems: readonly string[];
}

function run(cmd: string, args: readonly string[], cwd: string): { ok: boolean; out: string } {
  try {
    const out = execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, out };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

/** `npm pack` both packages into `dest`. */
export function packAll(dest: string): Packed[] {
  return PUBLISHED.map((name) => {
    const { ok, out } = run(
      'npm',
      ['pack', '--json', '--pack-destination', dest],
      join(ROOT, 'packages', name),
    );
    if (!ok) throw new Error(`npm pack of ${name} failed:\n${out}`);
    // npm prints the build's output before the JSON array.
    const json = JSON.parse(out.slice(out.lastIndexOf('\n[\n') + 1)) as {
      filename: string;
      files: { path: string }[];
    }[];
    return { name, tarball: join(dest, json[0]!.filename), files: json[0]!.files.map((f) => f.path) };
  });
}

/** Every string leaf of a package.json field (exports maps, typesVersions, bin). */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(targets);
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

/** Relative specifiers a built file imports: `from './x.js'`, `require("./x.cjs")`, `import('./x')`. */
function relativeImports(code: string): string[] {
  return [...code.matchAll(/(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map(
    (m) => m[1]!,
  );
}

/**
 * Files the tarball carries that nothing points at: neither package.json (exports, typesVersions,
 * bin, main, module, types) nor, transitively, an import of a file it points at (chunks). A
 * declaration file imported as `./x.js` is `./x.d.ts` (and `.cjs` is `.d.cts`).
 */
export function unusedFiles(p: Packed): string[] {
  const dir = join(ROOT, 'packages', p.name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  const shipped = new Set(p.files);
  const used = new Set<string>();
  const visit = (path: string): void => {
    const file = posix.normalize(path.replace(/^\.\//, ''));
    if (used.has(file) || !shipped.has(file)) return;
    used.add(file);
    if (!/\.(c?js|d\.c?ts)$/.test(file)) return;
    for (const spec of relativeImports(readFileSync(join(dir, file), 'utf8'))) {
      const target = posix.join(posix.dirname(file), spec);
      const dts = /\.d\.c?ts$/.test(file);
      visit(dts ? target.replace(/\.js$/, '.d.ts').replace(/\.cjs$/, '.d.cts') : target);
    }
  };
  for (const t of targets([pkg.exports, pkg.typesVersions, pkg.bin, pkg.main, pkg.module, pkg.types]))
    visit(t);
  const always = new Set(['package.json', 'README.md', 'LICENSE']);
  return p.files.filter((f) => !always.has(f) && !used.has(f));
}

/** publint, arethetypeswrong and the file list of one tarball. */
export function checkTarball(p: Packed): CheckResult[] {
  const publint = run(join(BIN, 'publint'), ['run', '--strict', p.tarball], ROOT);
  const attw = run(
    join(BIN, 'attw'),
    [p.tarball, '--profile', 'strict', '--format', 'table-flipped', '--no-emoji', '--no-color'],
    ROOT,
  );
  const unused = unusedFiles(p);
  return [
    { check: `publint ${p.name}`, problems: publint.ok ? [] : [publint.out.trim()] },
    {
      check: `arethetypeswrong ${p.name} (node10, node16, bundler)`,
      problems: attw.ok ? [] : [attw.out.trim()],
    },
    { check: `files of ${p.name}`, problems: unused.map((f) => `${f}: shipped but not used`) },
  ];
}

async function main(): Promise<number> {
  const dest = mkdtempSync(join(tmpdir(), 'ctlplane-pack-'));
  try {
    const results = packAll(dest).flatMap(checkTarball);
    for (const r of results) {
      process.stdout.write(`${r.problems.length === 0 ? 'ok  ' : 'FAIL'} ${r.check}\n`);
      for (const problem of r.problems) process.stdout.write(`${problem.replace(/^/gm, '       ')}\n`);
    }
    return results.every((r) => r.problems.length === 0) ? 0 : 1;
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => {
    process.exitCode = code;
  });
}
