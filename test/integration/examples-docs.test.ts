/**
 * Blocks fenced ```ts run in the guides are executed, not only type-checked: each is written to a
 * module inside the repo (so `@ctlplane/*` and zod resolve as for the examples) and run with
 * `node --import tsx`; it must exit 0 by itself (a block that leaves something holding the process
 * open fails), within a minute. Some must also print what their guide says they print.
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

/** What the runnable block of a guide prints, as its guide shows it. */
const PRINTS: Record<string, RegExp[]> = {
  'docs/getting-started.md': [/^droplet 1 is done on hv-[12]: \{"booted":"ubuntu-24\.04","on":"hv-[12]"\}$/m],
  // Both changes, the placement too: close() stops the relay, so the block waits for them first.
  'docs/harpoon.md': [
    /^event:1:v1 evt\.nyc1\._\.droplet%2Ecreate$/m,
    /^event:1:v2 evt\.nyc1\.hv-42\.droplet%2Ecreate$/m,
  ],
  'docs/event-router.md': [/status: 'done'/, /result: \{ booted: 'ubuntu-24\.04 with 2 vCPUs' \}/],
};

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

  it('has the examples of getting-started, Harpoon and the event router among them', () => {
    expect(blocks.map((b) => b.file)).toEqual(expect.arrayContaining(Object.keys(PRINTS)));
  });

  for (const b of blocks) {
    it(`runs ${b.file}:${b.line}`, async () => {
      mkdirSync(DIR, { recursive: true });
      const path = join(DIR, `${b.file.replace(/\W+/g, '_')}_${b.line}.ts`);
      writeFileSync(path, `${b.code}\nexport {};\n`);
      const { code, stdout, stderr } = await runExample(relative(ROOT, path), [], {}, 60_000);
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      for (const line of PRINTS[b.file] ?? []) expect(stdout).toMatch(line);
    });
  }
});
