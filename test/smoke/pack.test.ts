/**
 * The packages as a user gets them: both tarballs packed (`npm pack`, which builds), checked as the
 * registry would see them (publint, arethetypeswrong under node10 / node16 / bundler, no unused
 * files: scripts/check-pack.ts), and installed into a scratch project that already depends on
 * another zod 4.x. There must be one zod in the tree (zod is a peer dependency), the README's
 * example must compile with tsc (no @types/node, library checks on) and run, and the `ctlplane`
 * bin must work without the optional mysql2.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTarball, type Packed, packAll } from '../../scripts/check-pack.js';

const root = resolve(import.meta.dirname, '../..');
/**
 * The zod the scratch project already has: another 4.x than the repository's own (4.6.7), the
 * oldest the peer range (^4.6.6, see SECURITY.md) accepts.
 */
const USER_ZOD = '4.6.6';

const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });

/** Exit code and output of a command that may fail. */
function attempt(cmd: string, args: string[], cwd: string): { code: number; out: string } {
  try {
    return { code: 0, out: run(cmd, args, cwd) };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The first ```ts block of a Markdown file. */
function firstTsBlock(file: string): string {
  const m = /```ts\n([\s\S]*?)```/.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no ts block in ${file}`);
  return m[1]!;
}

/** Every version of a package in `npm ls --json` output. */
function versionsOf(tree: unknown, name: string, out: string[] = []): string[] {
  const deps = (tree as { dependencies?: Record<string, { version?: string }> }).dependencies ?? {};
  for (const [dep, node] of Object.entries(deps)) {
    if (dep === name && node.version) out.push(node.version);
    versionsOf(node, name, out);
  }
  return out;
}

describe('published packages (npm pack → check → install beside another zod 4.x → import, require, tsc)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ctlplane-smoke-'));
  let packs: Packed[] = [];
  const pack = (name: string) => packs.find((p) => p.name === name)!;

  beforeAll(() => {
    packs = packAll(scratch);
    writeFileSync(
      join(scratch, 'package.json'),
      JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
    );
    const install = ['install', '--prefer-offline', '--no-audit', '--no-fund'];
    run('npm', [...install, `zod@${USER_ZOD}`], scratch);
    run('npm', [...install, ...packs.map((p) => p.tarball)], scratch);
  }, 300_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each(['core', 'adapters'])(
    '%s passes publint, arethetypeswrong and ships no unused file',
    (name) => {
      const failed = checkTarball(pack(name)).filter((r) => r.problems.length > 0);
      expect(failed, failed.map((r) => `${r.check}:\n${r.problems.join('\n')}`).join('\n')).toEqual([]);
    },
    120_000,
  );

  it.each(['core', 'adapters'])(
    '%s tarball holds only dist/ (no sourcemaps), README, LICENSE and package.json',
    (name) => {
      const paths = pack(name).files;
      expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
      expect(
        paths.filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(p)),
      ).toEqual([]);
      expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    },
  );

  it('installs one zod: the one the project already had (a peer dependency, not a nested copy)', () => {
    const tree = JSON.parse(run('npm', ['ls', 'zod', '--all', '--json'], scratch)) as unknown;
    expect(new Set(versionsOf(tree, 'zod'))).toEqual(new Set([USER_ZOD]));
    for (const pkg of ['core', 'adapters']) {
      expect(existsSync(join(scratch, 'node_modules/@ctlplane', pkg, 'node_modules/zod'))).toBe(false);
    }
  });

  it('installs without mysql2 or amqplib (optional peers)', () => {
    expect(existsSync(join(scratch, 'node_modules', '@ctlplane', 'adapters'))).toBe(true);
    expect(existsSync(join(scratch, 'node_modules', 'mysql2'))).toBe(false);
    expect(existsSync(join(scratch, 'node_modules', 'amqplib'))).toBe(false);
  });

  it('compiles the README example with tsc (no @types/node, skipLibCheck off) and runs it', () => {
    writeFileSync(join(scratch, 'readme.ts'), firstTsBlock(join(root, 'README.md')));
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          types: [],
          outDir: 'out',
        },
        files: ['readme.ts'],
      }),
    );
    const tsc = attempt(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'],
      scratch,
    );
    expect(tsc.out).toBe('');
    expect(tsc.code).toBe(0);
    expect(attempt('node', ['out/readme.js'], scratch)).toEqual({ code: 0, out: '' });
  }, 120_000);

  it('the ctlplane bin: --help without mysql2, and migrate says to install it', () => {
    const bin = join(scratch, 'node_modules/.bin/ctlplane');
    const help = attempt(bin, ['--help'], scratch);
    expect(help).toEqual({ code: 0, out: expect.stringContaining('usage: ctlplane migrate') });
    const migrate = attempt(bin, ['migrate', '--url', 'mysql://root@127.0.0.1:1/test'], scratch);
    expect(migrate.code).toBe(1);
    expect(migrate.out).toContain('npm install mysql2');
    expect(migrate.out).not.toMatch(/ERR_MODULE_NOT_FOUND|\n\s+at /);
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
      expect(pack('core').files).toContain(f);
    }
    for (const f of [
      'dist/memory/index.d.ts',
      'dist/memory/index.d.cts',
      'dist/mysql/index.d.ts',
      'dist/amqp/index.d.ts',
    ]) {
      expect(pack('adapters').files).toContain(f);
    }
  });
});
