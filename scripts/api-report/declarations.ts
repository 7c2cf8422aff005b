/**
 * Declarations of every entry point, emitted from the sources by the project's TypeScript into a
 * scratch folder: the report describes the code as it is now, never a stale `dist/`, and needs no
 * build first. The adapters' declarations keep importing `@ctlplane/core` by name, as they do when
 * published; a copy of core's declarations under the scratch folder's node_modules (with core's
 * `exports` map) resolves those imports as a dependency, so the adapters' reports name what they
 * take from core instead of repeating it.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ENTRY_POINTS, specifier } from './entry-points.js';

/** Where the declarations are. */
export interface Declarations {
  /** The folder they were emitted into. */
  readonly dir: string;
  /** The `.d.ts` of an entry point's source (`packages/<pkg>/<source>`). */
  readonly of: (pkg: string, source: string) => string;
}

/** Emit the declarations of every entry point's sources into `outDir`. @throws on any diagnostic */
export function emitDeclarations(root: string, outDir: string): Declarations {
  const base = ts.getParsedCommandLineOfConfigFile(
    join(root, 'packages', 'core', 'tsconfig.build.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) },
  );
  if (!base) throw new Error('cannot read packages/core/tsconfig.build.json');
  const sources = ENTRY_POINTS.map((e) => join(root, 'packages', e.pkg, e.source));
  const program = ts.createProgram(sources, {
    ...base.options,
    rootDir: join(root, 'packages'),
    outDir,
    declaration: true,
    emitDeclarationOnly: true,
    noEmit: false,
    sourceMap: false,
    declarationMap: false,
    // The adapters import core by name, as published; here that name is core's sources.
    paths: Object.fromEntries(
      ENTRY_POINTS.filter((e) => e.pkg === 'core').map((e) => [
        specifier(e),
        [join(root, 'packages/core', e.source)],
      ]),
    ),
  });
  const result = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (diagnostics.length > 0) fail(diagnostics);
  installCore(outDir);
  return { dir: outDir, of: (pkg, source) => join(outDir, pkg, source.replace(/\.ts$/, '.d.ts')) };
}

/** Core's declarations as the dependency `@ctlplane/core` of everything under `outDir`. */
function installCore(outDir: string): void {
  const target = join(outDir, 'node_modules', '@ctlplane', 'core');
  cpSync(join(outDir, 'core'), target, { recursive: true });
  const exports = Object.fromEntries(
    ENTRY_POINTS.filter((e) => e.pkg === 'core').map((e) => [
      e.subpath,
      { types: `./${e.source.replace(/\.ts$/, '.d.ts')}` },
    ]),
  );
  writeFileSync(
    join(target, 'package.json'),
    JSON.stringify({ name: '@ctlplane/core', type: 'module', exports }),
  );
}

function fail(diagnostics: readonly ts.Diagnostic[]): never {
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  };
  throw new Error(`declarations did not compile:\n${ts.formatDiagnostics(diagnostics, host)}`);
}
