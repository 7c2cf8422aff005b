/**
 * The two focused examples, run as a user runs them: a custom ranking strategy, and moving a fleet
 * from direct database polling to the EventRouter (in memory, and on MariaDB's processlist).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testPool } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { CUSTOM_STRATEGY, POLLING_TO_ROUTER, runExample } from './fixtures/examples-kit.js';

/** `gen4 49, gen5 62, gen6 93` → the share of gen6. */
function gen6Share(line: string): number {
  const parts = new Map([...line.matchAll(/gen(\d) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
  const total = [...parts.values()].reduce((a, b) => a + b, 0);
  return (parts.get('6') ?? 0) / total;
}

describe('custom-strategy example', () => {
  it('shifts work toward efficient hardware and explains the decision', async () => {
    const { code, stdout, stderr } = await runExample(CUSTOM_STRATEGY, ['--events', '60']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('placed 60/60 droplets (energy-aware x3 + least-allocated x1)');
    const custom = stdout.match(/vCPUs by generation: (.+)/)?.[1] ?? '';
    const alone = stdout.match(/least-allocated alone: (.+)/)?.[1] ?? '';
    expect(gen6Share(custom)).toBeGreaterThan(gen6Share(alone));
    expect(stdout).toMatch(/explain: would place on hv-\d+ \(score [\d.]+; 12 of 12 servers feasible\)/);
    expect(stdout).toMatch(/score [\d.]+ = energy-aware [\d.]+ x3, least-allocated [\d.]+ x1/);
  });

  it('refuses a bad flag with its usage', async () => {
    const { code, stderr } = await runExample(CUSTOM_STRATEGY, ['--weight', '-1']);
    expect(code).toBe(2);
    expect(stderr).toContain('Usage:');
  });
});

/** `database connections: 31 -> 2` */
function connections(stdout: string): [number, number] {
  const m = stdout.match(/database connections: (\d+) -> (\d+)/);
  if (!m) throw new Error(`no connection line in:\n${stdout}`);
  return [Number(m[1]), Number(m[2])];
}

describe('polling-to-router example', () => {
  it('in memory: one store client per polling agent, then the router alone', async () => {
    const { code, stdout, stderr } = await runExample(POLLING_TO_ROUTER, [
      '--servers',
      '20',
      '--events',
      '200',
      '--poll-ms',
      '200',
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('connections counted from open store clients (in memory)');
    expect(connections(stdout)).toEqual([21, 2]);
    expect(stdout).toMatch(/event router: 20 agents connected to 1 EventRouter/);
  });
});

describeWith('mysql', 'polling-to-router example on MariaDB', () => {
  it("counts connections in MariaDB's processlist", async () => {
    const db = `ctl_p2r_${randomBytes(3).toString('hex')}`;
    const admin = testPool({ connectionLimit: 1 });
    await admin.query(`CREATE DATABASE \`${db}\``);
    try {
      const url = new URL(mysqlUrl());
      url.pathname = `/${db}`;
      const { code, stdout, stderr } = await runExample(POLLING_TO_ROUTER, [
        ...['--servers', '20', '--events', '200', '--poll-ms', '200', '--mysql', url.toString()],
      ]);
      expect(code, stderr).toBe(0);
      expect(stdout).toContain("connections counted from MariaDB's processlist");
      const [before, after] = connections(stdout);
      expect(before).toBe(21); // 20 agents + the API
      expect(after).toBeLessThanOrEqual(3); // the router's pool of 2 + the API
      expect(after).toBeGreaterThan(0);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await admin.end();
    }
  });
});
