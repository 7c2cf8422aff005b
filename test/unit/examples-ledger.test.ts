/**
 * The droplet cloud's pieces for multi-process and chaos deployments: the hypervisor ledger that
 * survives an agent restart, agents sharding, and the flags that set them up.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@ctlplane/core';
import { afterEach, describe, expect, it } from 'vitest';
import { shardOf } from '../../packages/examples/src/droplet-cloud/agents.js';
import { describeBackends } from '../../packages/examples/src/droplet-cloud/backend.js';
import { parseCli } from '../../packages/examples/src/droplet-cloud/cli.js';
import {
  HypervisorLedger,
  ledgerPath,
  readLedger,
} from '../../packages/examples/src/droplet-cloud/ledger.js';
import { routerUrls } from '../../packages/examples/src/droplet-cloud/roles/endpoints.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'ctl-ledger-'));
  dirs.push(d);
  return d;
};

describe('HypervisorLedger', () => {
  it('restores the droplets still running after a restart, per server', () => {
    const dir = scratch();
    const first = new HypervisorLedger(dir, 2);
    first.write({ k: 'ev', e: 1, v: 2, s: 'hv-1', r: 0, at: 1 });
    first.write({ k: 'boot', e: 1, s: 'hv-1', cpu: 2, mem: 4096, ip: '10.0.0.1', at: 2 });
    first.write({ k: 'boot', e: 2, s: 'hv-2', cpu: 1, mem: 1024, ip: '10.0.0.2', at: 3 });
    first.write({ k: 'boot', e: 3, s: 'hv-1', cpu: 4, mem: 8192, ip: '10.0.0.3', at: 4 });
    first.write({ k: 'gone', e: 3, s: 'hv-1', at: 5 });

    const again = new HypervisorLedger(dir, 2);
    expect([...again.droplets('hv-1')]).toEqual([[1, { cpu: 2, memory: 4096, ip: '10.0.0.1' }]]);
    expect([...again.droplets('hv-2').keys()]).toEqual([2]);
    expect(again.droplets('hv-3').size).toBe(0);
    expect(new HypervisorLedger(dir, 3).droplets('hv-1').size).toBe(0); // another shard's file
  });

  it('skips a line torn by a kill mid-write and keeps appending on a fresh line', () => {
    const dir = scratch();
    new HypervisorLedger(dir, 0).write({ k: 'boot', e: 7, s: 'hv-1', cpu: 1, mem: 1024, ip: 'x', at: 1 });
    appendFileSync(ledgerPath(dir, 0), '{"k":"boot","e":8,"s":"hv-1","cp');
    const again = new HypervisorLedger(dir, 0);
    again.write({ k: 'dup', e: 7, v: 3, s: 'hv-1', at: 2 });
    expect([...again.droplets('hv-1').keys()]).toEqual([7]);
    expect(readLedger(ledgerPath(dir, 0)).map((l) => `${l.k}:${l.e}`)).toEqual(['boot:7', 'dup:7']);
  });
});

describe('agents sharding and router replicas', () => {
  it('splits the fleet into disjoint shards that cover it', () => {
    const fleet = Array.from({ length: 23 }, (_, i) => i);
    const shards = [0, 1, 2, 3].map((index) => shardOf(fleet, { index, count: 4 }));
    expect(shards.flat().sort((a, b) => a - b)).toEqual(fleet);
    expect(shards[1]).toEqual([1, 5, 9, 13, 17, 21]);
  });

  it('gives agents every replica of their region, replica 0 first', () => {
    const o = parseCli(['--regions', 'a,b', '--router-replicas', '2', '--port-base', '9000'])!;
    expect(routerUrls(o, 'b')).toEqual(['ws://127.0.0.1:9011/agents', 'ws://127.0.0.1:9061/agents']);
  });

  it('takes comma-separated lists of MySQL and AMQP URLs (the nodes of a cluster)', () => {
    const o = parseCli([
      ...['--mysql', 'mysql://u:p@127.0.0.1:3307/test, mysql://u:p@127.0.0.1:3308/test'],
      ...['--amqp', 'amqp://g:secret@127.0.0.1:5673,amqp://g:secret@127.0.0.1:5674'],
    ])!;
    expect(o.mysql).toBe('mysql://u:p@127.0.0.1:3307/test,mysql://u:p@127.0.0.1:3308/test');
    expect(o.amqp).toEqual(['amqp://g:secret@127.0.0.1:5673', 'amqp://g:secret@127.0.0.1:5674']);
    expect(describeBackends(o)).not.toContain('secret');
    expect(() => parseCli(['--amqp', 'amqp://127.0.0.1:5673,http://x'])).toThrow(/amqp/);
    expect(() => parseCli(['--mysql', 'mysql://127.0.0.1:3307/test,'])).toThrow(/mysql/);
  });

  it('refuses a bad shard or replica flag with a typed error naming it', () => {
    for (const [flag, value] of [
      ['--agent-shard', '4/4'],
      ['--agent-shard', 'two'],
      ['--router-replica', '10'],
      ['--router-source', 'postgres'],
      ['--lease-ms', '10'],
    ] as const) {
      const err = (() => {
        try {
          parseCli([flag, value]);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err, `${flag} ${value}`).toBeInstanceOf(ValidationError);
      const camel = flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      expect((err as ValidationError).message).toContain(camel);
    }
  });
});
