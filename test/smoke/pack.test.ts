import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe('published packages (npm pack → install → import and require)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ctlplane-smoke-'));
  const packs: Record<string, PackResult> = {};

  beforeAll(() => {
    for (const name of ['core', 'adapters']) {
      const out = run('npm', ['pack', '--json', '--pack-destination', scratch], join(root, 'packages', name));
      const json = JSON.parse(out.slice(out.lastIndexOf('\n[\n') + 1)) as PackResult[];
      packs[name] = json[0]!;
    }
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...Object.values(packs).map((p) => `./${p.filename}`),
      ],
      scratch,
    );
  }, 300_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each(['core', 'adapters'])('%s tarball holds only dist/, README, LICENSE and package.json', (name) => {
    const paths = packs[name]!.files.map((f) => f.path);
    expect(paths).toContain('package.json');
    expect(paths).toContain('README.md');
    expect(paths).toContain('LICENSE');
    const other = paths.filter(
      (p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(p),
    );
    expect(other).toEqual([]);
  });

  it('installs without mysql2 or amqplib (optional peers)', () => {
    expect(existsSync(join(scratch, 'node_modules', '@ctlplane', 'adapters'))).toBe(true);
    expect(existsSync(join(scratch, 'node_modules', 'mysql2'))).toBe(false);
    expect(existsSync(join(scratch, 'node_modules', 'amqplib'))).toBe(false);
  });

  const program = `
    const { EventStore, defineEventTypes, ValidationError } = core;
    const { MemoryEventStoreDriver } = memory;
    const types = defineEventTypes({ ping: zod.z.object({ n: zod.z.number() }) });
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types });
    store.append([{ type: 'ping', payload: { n: 1 }, region: 'r1' }]).then(async ([e]) => {
      let rejected = false;
      try { await store.append([{ type: 'nope', payload: {}, region: 'r1' }]); } catch (err) { rejected = err instanceof ValidationError; }
      // The adapter kit shares its classes with the main entry (one chunk, not a copy each).
      let kitShared = false;
      try { kit.parseOrThrow(zod.z.number(), 'x', 'n'); } catch (err) { kitShared = err instanceof ValidationError; }
      console.log(JSON.stringify({ id: e.id, status: e.status, rejected, kitShared }));
    });`;

  it('works through ESM import', () => {
    writeFileSync(
      join(scratch, 'esm.mjs'),
      `import * as core from '@ctlplane/core'; import * as kit from '@ctlplane/core/driver'; import * as memory from '@ctlplane/adapters/memory'; import * as zod from 'zod';${program}`,
    );
    expect(JSON.parse(run('node', ['esm.mjs'], scratch))).toEqual({
      id: 1,
      status: 'pending',
      rejected: true,
      kitShared: true,
    });
  });

  it('works through CommonJS require', () => {
    writeFileSync(
      join(scratch, 'cjs.cjs'),
      `const core = require('@ctlplane/core'); const kit = require('@ctlplane/core/driver'); const memory = require('@ctlplane/adapters/memory'); const zod = require('zod');${program}`,
    );
    expect(JSON.parse(run('node', ['cjs.cjs'], scratch))).toEqual({
      id: 1,
      status: 'pending',
      rejected: true,
      kitShared: true,
    });
  });

  it('ships type declarations for both module systems', () => {
    for (const f of ['dist/index.d.ts', 'dist/index.d.cts', 'dist/driver.d.ts', 'dist/driver.d.cts']) {
      expect(packs.core!.files.map((x) => x.path)).toContain(f);
    }
    for (const f of [
      'dist/memory/index.d.ts',
      'dist/memory/index.d.cts',
      'dist/mysql/index.d.ts',
      'dist/amqp/index.d.ts',
    ]) {
      expect(packs.adapters!.files.map((x) => x.path)).toContain(f);
    }
  });
});
