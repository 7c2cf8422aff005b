/**
 * Command-line flags under fuzzing, each run as a child process: `ctlplane migrate`
 * (packages/adapters/src/cli.ts) and the droplet-cloud example. Every run exits 0, 1 (a typed
 * failure, named by its code) or 2 (usage), prints no stack trace and no password, and creates no
 * table a hostile prefix asked for.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import fc from 'fast-check';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPool } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { hostileString } from './fixtures/security-arbitraries.js';
import { FUZZ_SEED, fuzzParams, Tally } from './fixtures/security-kit.js';

const root = resolve(import.meta.dirname, '../..');
const MIGRATE_RUNS = 6;
const DROPLET_RUNS = 3;
const SECRET = 'S3cret-cli-pw-7f31';
const CLOSED_URL = `mysql://root:${SECRET}@127.0.0.1:1/test`;

interface Run {
  code: number | null;
  out: string;
}

function run(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', resolve(root, script), ...args],
      { cwd: root, timeout: 60_000, env: { PATH: process.env.PATH ?? '', ...env } },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: `${stdout}\n${stderr}` }),
    );
    child.stdin?.end();
  });
}

/** Run `items` through `fn`, `width` at a time. */
async function pooled<T, R>(items: readonly T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Strings an argv can carry (no NUL), hostile ones included. */
const argString = hostileString.filter((s) => !s.includes('\u0000'));

function checkRun(r: Run, what: string): string {
  expect([0, 1, 2], `${what}\n${r.out}`).toContain(r.code);
  expect(r.out, what).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  expect(r.out, what).not.toContain(SECRET);
  return `exit ${r.code}`;
}

describeWith('mysql', '`ctlplane migrate` flags under fuzzing', () => {
  const admin = testPool({ connectionLimit: 1 });
  const okPrefix = `seccli_${randomBytes(3).toString('hex')}_`;
  // A scratch database: a generated command line without --prefix migrates with the default
  // prefix, which must not land in the shared test database.
  const scratch = `seccli_${randomBytes(4).toString('hex')}`;
  const scratchUrl = (): string => {
    const u = new URL(mysqlUrl());
    u.pathname = `/${scratch}`;
    return u.toString();
  };
  beforeAll(async () => {
    await admin.query(`CREATE DATABASE \`${scratch}\``);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${scratch}\``);
    await admin.end();
  });

  it(`exits 0, 1 or 2 for ${MIGRATE_RUNS} generated command lines, without stack traces or passwords`, async () => {
    const word = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          'migrate',
          '--url',
          '--prefix',
          '--help',
          '-h',
          '--',
          'MIGRATE',
          '--bogus',
          '-x',
          '--url=',
        ),
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          scratchUrl(),
          CLOSED_URL,
          'postgres://x',
          `${scratchUrl()};DROP TABLE x`,
          `mysql://root:${SECRET}@[::1`,
        ),
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom(okPrefix, 'x; DROP TABLE y', 'ctl_`', 'a'.repeat(40), '', '1abc'),
      },
      { weight: 1, arbitrary: argString },
    );
    const argvs = fc.sample(fc.array(word, { minLength: 0, maxLength: 5 }), fuzzParams(MIGRATE_RUNS));
    const fixed = [
      ['migrate', '--url', CLOSED_URL],
      ['migrate', '--url', scratchUrl(), '--prefix', 'x; DROP TABLE y'],
      ['migrate', '--url', scratchUrl(), '--prefix', okPrefix],
      ['migrate', '--url', scratchUrl(), '--prefix', okPrefix], // twice at once: serialised
    ];
    const tally = new Tally('ctlplane migrate argv (child processes)');
    const all = [...fixed, ...argvs];
    const runs = await pooled(all, 4, (argv) => run('packages/adapters/src/cli.ts', argv));
    runs.forEach((r, i) => {
      const label = checkRun(r, JSON.stringify(all[i]));
      if (r.code === 2) expect(r.out).toContain('usage: ctlplane migrate');
      if (r.code === 1)
        expect(r.out).toMatch(
          /ctlplane migrate failed \((VALIDATION|UNAVAILABLE|UNAUTHORIZED|NOT_FOUND|UNSUPPORTED)\)/,
        );
      tally.add(label);
    });
    tally.print();
    expect(runs[0]!.code).toBe(1);
    expect(runs[1]!.out).toMatch(/failed \(VALIDATION\).*tablePrefix/);
    // The same migration twice at once: the lock serialises them, the second applies nothing.
    expect([runs[2]!.code, runs[3]!.code]).toEqual([0, 0]);
    expect([runs[2]!.out, runs[3]!.out].filter((o) => /applied 0 migration/.test(o))).toHaveLength(1);
    // Only the one valid prefix made tables: nothing from a hostile one.
    const [rows] = await admin.query<RowDataPacket[]>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema IN (?, DATABASE()) AND (table_name LIKE '%DROP%' OR table_name LIKE '%;%' OR table_name LIKE '%`%')",
      [scratch],
    );
    expect(rows).toEqual([]);
  });

  it('masks the password of CTLPLANE_MYSQL_URL in its failure message', async () => {
    const r = await run('packages/adapters/src/cli.ts', ['migrate'], { CTLPLANE_MYSQL_URL: CLOSED_URL });
    expect(r.code).toBe(1);
    expect(r.out).not.toContain(SECRET);
  });

  it('regression(cli-echo): a database URL given without --url is not echoed with its password', async () => {
    // Found by this suite: `ctlplane migrate mysql://root:pw@db/x` (forgot --url) printed
    // unknown command "migrate mysql://root:pw@…" with the password.
    const r = await run('packages/adapters/src/cli.ts', ['migrate', CLOSED_URL]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('unknown command');
    expect(r.out).not.toContain(SECRET);
  });
});

describe('droplet-cloud flags under fuzzing', () => {
  it(`refuses ${DROPLET_RUNS} generated bad command lines with exit 2 and the usage, echoing no secret`, async () => {
    const flag = fc.constantFrom(
      '--regions',
      '--hypervisors',
      '--capacity',
      '--rate',
      '--seed',
      '--mysql',
      '--amqp',
      '--table-prefix',
      '--role',
      '--token',
      '--agent-secret',
      '--port-base',
      '--log-level',
      '--bogus',
    );
    const value = fc.oneof(
      argString,
      fc.constantFrom('-1', 'NaN', '1e309', '0', CLOSED_URL, `amqp://g:${SECRET}@127.0.0.1:1`, SECRET),
    );
    const argvs = fc
      .sample(fc.array(fc.tuple(flag, value), { minLength: 1, maxLength: 4 }), {
        ...fuzzParams(DROPLET_RUNS),
        seed: FUZZ_SEED + 1,
      })
      // A run that parsed would start the cloud: an out-of-range port keeps every run a refusal.
      .map((pairs) => [...pairs.flat(), '--dashboard-port', '70000']);
    const tally = new Tally('droplet-cloud argv (child processes)');
    const runs = await pooled(argvs, 4, (argv) => run('packages/examples/src/droplet-cloud/main.ts', argv));
    runs.forEach((r, i) => {
      tally.add(checkRun(r, JSON.stringify(argvs[i])));
      expect(r.code).toBe(2);
      expect(r.out).toContain('Usage: npm start');
    });
    const help = await run('packages/examples/src/droplet-cloud/main.ts', ['--help']);
    expect(help.code).toBe(0);
    tally.add('exit 0 (--help)');
    tally.print();
  });

  it('regression(droplet-exit-13): prints no password and exits 1 when its backends are unreachable', async () => {
    // Found by this suite: main.ts ended a failed start with `await sleep(10); process.exit(1)`;
    // core's sleep unrefs its timer, so node exited 13 (unsettled top-level await) instead of 1.
    const r = await run('packages/examples/src/droplet-cloud/main.ts', [
      '--role',
      'harpoon',
      '--mysql',
      CLOSED_URL,
      '--amqp',
      `amqp://guest:${SECRET}@127.0.0.1:1`,
      '--token',
      `${SECRET}-token-0123456789`,
      '--duration',
      '5',
    ]);
    expect(r.out).toContain('failed to start');
    expect(r.out).not.toContain(SECRET);
    expect(r.code).toBe(1);
  });
});
