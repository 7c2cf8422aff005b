/**
 * Every ```ts block of README.md and docs/*.md must type-check against the public API, so the docs
 * cannot rot. Each block is its own module (top-level await allowed), compiled with the repo's
 * tsconfig (its `paths` map `@ctlplane/*` to the sources). A block that is intentionally partial is
 * fenced ```ts no-check; keep those rare.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The READMEs the registry shows, beside the repository's docs. */
const PACKAGE_READMES = ['core', 'adapters'].map((p) => join(ROOT, 'packages', p, 'README.md'));
const DOCS = [
  join(ROOT, 'README.md'),
  ...PACKAGE_READMES,
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(ROOT, 'docs', f)),
];

/** One fenced block. */
interface Block {
  readonly file: string;
  /** 1-based line of the first line of code. */
  readonly line: number;
  readonly code: string;
  readonly check: boolean;
}

/** The ```ts / ```typescript blocks of a Markdown text. */
function extractBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\b(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence] = open as unknown as [string, string, string];
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trimStart().startsWith(fence))
      body.push(lines[j++]!.slice(indent.length));
    blocks.push({ file, line: i + 2, code: body.join('\n'), check: !/\bno-check\b/.test(open[4] ?? '') });
    i = j;
  }
  return blocks;
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error('cannot read tsconfig.json');
  return { ...parsed.options, noEmit: true };
}

/** Type-check blocks, each as its own ES module; returns `file:line: message` per error. */
function typeCheck(blocks: readonly Block[]): string[] {
  const options = compilerOptions();
  const virtual = new Map<string, Block>();
  blocks.forEach((b, i) => {
    const name = relative(ROOT, b.file).replace(/[^\w]+/g, '_');
    virtual.set(join(ROOT, 'docs', `__snippet_${name}_${b.line}_${i}.mts`), b);
  });
  const host = ts.createCompilerHost(options, true);
  const source = (path: string) => {
    const b = virtual.get(path);
    return b ? `${b.code}\nexport {};\n` : undefined;
  };
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (p) => virtual.has(p) || fileExists.call(host, p);
  host.readFile = (p) => source(p) ?? readFile.call(host, p);
  host.getSourceFile = (p, lang, onError, create) => {
    const text = source(p);
    return text !== undefined
      ? ts.createSourceFile(p, text, lang, true, ts.ScriptKind.TS)
      : getSourceFile.call(host, p, lang, onError, create);
  };
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
  const errors: string[] = [];
  for (const [path, b] of virtual) {
    const sf = program.getSourceFile(path)!;
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      const at = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line;
      errors.push(
        `${relative(ROOT, b.file)}:${b.line + at}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
      );
    }
  }
  return errors;
}

describe('code blocks of the docs', () => {
  const blocks = DOCS.flatMap((f) => extractBlocks(f, readFileSync(f, 'utf8')));
  const checked = blocks.filter((b) => b.check);

  it('finds the blocks (and keeps unchecked ones rare)', () => {
    expect(checked.length).toBeGreaterThan(10);
    const unchecked = blocks.filter((b) => !b.check).map((b) => `${relative(ROOT, b.file)}:${b.line}`);
    expect(unchecked.length, `no-check blocks: ${unchecked.join(', ')}`).toBeLessThanOrEqual(
      Math.ceil(blocks.length / 10),
    );
  });

  it('type-checks every ```ts block against the public API', () => {
    const errors = typeCheck(checked);
    expect(errors, `\n${errors.join('\n')}\n`).toEqual([]);
  }, 180_000);

  it('links only to files that exist', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!.split('#')[0]!;
        if (!target || /^[a-z]+:/.test(target)) continue;
        if (!existsSync(join(dirname(file), target))) broken.push(`${relative(ROOT, file)}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('package READMEs link only by absolute URL (relative links break on the registry)', () => {
    for (const file of PACKAGE_READMES) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      const relativeLinks = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1]!)
        .filter((target) => !/^https:\/\//.test(target));
      expect(relativeLinks, relative(ROOT, file)).toEqual([]);
    }
  });

  it('catches a block that does not compile', () => {
    const bad = extractBlocks(
      'docs/x.md',
      "```ts\nimport { EventStore } from '@ctlplane/core';\nconst n: number = 'no';\n```\n",
    );
    expect(bad).toHaveLength(1);
    expect(typeCheck(bad)).toEqual([
      expect.stringMatching(/^docs\/x\.md:3: Type 'string' is not assignable to type 'number'/),
    ]);
  }, 180_000);
});
