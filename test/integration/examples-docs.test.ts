/**
 * Blocks fenced ```ts run in the guides are executed, not only type-checked: each is written to a
 * module inside the repo (so `@ctlplane/*` and zod resolve as for the examples) and run with
 * `node --import tsx`; it must exit 0. The getting-started example must print its droplet done.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runExample } from './fixtures/examples-kit.js';

const DIR = join(ROOT, 'test/integration/fixtures/examples-docs-run');
const files = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Every ```ts run block, with where it starts. */
const blocks = files.flatMap((file) => {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const found: { file: string; line: number; code: string }[] = [];
  lines.forEach((l, i) => {
    if (!/^```(ts|typescript)\s+run\b/.test(l)) return;
    const end = lines.findIndex((x, j) => j > i && x.startsWith('```'));
    found.push({ file, line: i + 2, code: lines.slice(i + 1, end).join('\n') });
  });
  return found;
});

describe('runnable blocks of the docs', () => {
  afterAll(() => rmSync(DIR, { recursive: true, force: true }));

  it('has the getting-started example among them', () => {
    expect(blocks.map((b) => b.file)).toContain('docs/getting-started.md');
  });

  for (const b of blocks) {
    it(`runs ${b.file}:${b.line}`, async () => {
      mkdirSync(DIR, { recursive: true });
      const path = join(DIR, `${b.file.replace(/\W+/g, '_')}_${b.line}.ts`);
      writeFileSync(path, `${b.code}\nexport {};\n`);
      const { code, stdout, stderr } = await runExample(relative(ROOT, path), []);
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      if (b.file === 'docs/getting-started.md') {
        expect(stdout).toMatch(
          /^droplet 1 is done on hv-[12]: \{"booted":"ubuntu-24\.04","on":"hv-[12]"\}$/m,
        );
      }
    });
  }
});
