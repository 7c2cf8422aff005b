/**
 * The droplet-cloud example as a user runs it: bounded runs that assert on what it prints, a clean
 * exit on SIGINT and after --duration, usage on bad flags, and the same system on MariaDB and
 * RabbitMQ.
 */

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanup } from '../../scripts/multi-process/cleanup.js';
import { uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl, mysqlUrl } from '../support/services.js';
import { DROPLET_CLOUD, ExampleProcess, runExample } from './fixtures/examples-kit.js';

/** `droplets requested N: booted B, failed F, cancelled C, unfinished U; …` */
function report(stdout: string) {
  const m = stdout.match(
    /droplets requested (\d+): booted (\d+), failed (\d+), cancelled (\d+), unfinished (\d+)/,
  );
  if (!m) throw new Error(`no final report in:\n${stdout}`);
  const [requested, booted, failed, cancelled, unfinished] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return { requested, booted, failed, cancelled, unfinished };
}

const SMALL = ['--hypervisors', '4', '--boot-ms', '200', '--no-dashboard', '--summary-ms', '500'];

describe('droplet-cloud example (in memory)', () => {
  it('completes a bounded workload: every droplet done or failed with a reason', async () => {
    const { code, stdout, stderr } = await runExample(DROPLET_CLOUD, [
      ...SMALL,
      ...['--requests', '80', '--rate', '40', '--fail-rate', '0.15'],
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('stopping (finished)');
    const r = report(stdout);
    expect(r.requested).toBe(80);
    expect(r.unfinished).toBe(0);
    expect(r.booted + r.failed + r.cancelled).toBe(80);
    expect(r.booted).toBeGreaterThan(0);
    expect(r.failed).toBeGreaterThan(0);
    const reasons = [...stdout.matchAll(/^ {2}failed x(\d+): (.+)$/gm)];
    expect(reasons.reduce((n, m) => n + Number(m[1]), 0)).toBe(r.failed);
    for (const m of reasons) expect(m[2]).not.toBe('(no reason given)');
    expect(stdout).toMatch(/\| 12 agents -> 2 db clients \(memory\) \|/);
    expect(stdout).toContain('stopped cleanly');
  });

  it('runs the default fleet of 3 x 50 and stops after --duration', async () => {
    const { code, stdout, stderr } = await runExample(DROPLET_CLOUD, [
      '--duration',
      '4',
      '--no-dashboard',
      '--summary-ms',
      '1000',
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('3 regions x 50 hypervisors; store: memory; bus: memory');
    expect(stdout).toMatch(/\| 150 agents -> 2 db clients/);
    expect(stdout).toMatch(/\| cpu nyc1 \d+% sfo3 \d+% ams3 \d+%/);
    expect(stdout).toContain('stopping (duration)');
    expect(stdout).toContain('stopped cleanly');
  });

  it('exits cleanly on SIGINT and on SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const p = new ExampleProcess(DROPLET_CLOUD, [...SMALL, '--dashboard-port', '0']);
      await p.waitFor(/^\[ +\d+s\] req [1-9]/m);
      expect(await p.stop(signal)).toBe(0);
      expect(p.stdout).toContain(`stopping (${signal})`);
      expect(p.stdout).toContain('stopped cleanly');
    }
  });

  it('answers bad flags with the usage and the broken rule, not a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['--rate', 'lots'], /rate: .*number/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['--fail-rate', '2'], /failRate: .*1/],
      [['--role', 'router'], /needs --mysql and --amqp/],
      [['--requests', '10', '--rate', '0'], /needs a --rate above 0/],
      [['--capacity', '48'], /must be <vcpus>x<MiB>/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runExample(DROPLET_CLOUD, args)));
    for (const [i, [args, message]] of cases.entries()) {
      const { code, stdout, stderr } = runs[i]!;
      expect(code, `${args.join(' ')}: ${stdout}`).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr).toContain('Usage: npm start -- [options]');
      expect(stderr).not.toMatch(/^\s+at /m);
    }
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = String((taken.address() as AddressInfo).port);
    const busy = await runExample(DROPLET_CLOUD, ['--dashboard-port', port, '--hypervisors', '2']);
    taken.close();
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/failed to start: listen EADDRINUSE.*pick one with --dashboard-port/);
    const help = await runExample(DROPLET_CLOUD, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--role <role>');
  });
});

describeWith('mysql', 'droplet-cloud example on MariaDB', () => {
  describeWith('amqp', 'and RabbitMQ', () => {
    it('runs the same system in one process, migrations applied, and cleans up', async () => {
      const prefix = uniquePrefix('dc');
      try {
        const { code, stdout, stderr } = await runExample(DROPLET_CLOUD, [
          ...SMALL,
          ...['--requests', '60', '--rate', '30', '--fail-rate', '0.1'],
          ...['--mysql', mysqlUrl(), '--amqp', amqpUrl(), '--table-prefix', prefix],
        ]);
        expect(code, stderr).toBe(0);
        expect(stdout).toContain(`store: MariaDB/MySQL`);
        expect(stdout).toContain(`(exchange droplet-cloud.${prefix})`);
        const r = report(stdout);
        expect(r).toMatchObject({ requested: 60, unfinished: 0 });
        expect(r.booted + r.failed + r.cancelled).toBe(60);
        // One pool of at most 4 connections serves Harpoon (and the fleet); 12 agents hold none.
        const db = [...stdout.matchAll(/\| 12 agents -> (\d+) db (conns|clients)/g)].map((m) => Number(m[1]));
        expect(db.length).toBeGreaterThan(0);
        expect(Math.max(...db)).toBeLessThanOrEqual(5);
      } finally {
        await cleanup({ mysql: mysqlUrl(), amqp: amqpUrl(), tablePrefix: prefix, regions: 'nyc1,sfo3,ams3' });
      }
    });
  });
});
