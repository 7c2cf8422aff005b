/**
 * The multi-process deployment script on MariaDB and RabbitMQ: five processes (harpoon, scheduler,
 * router, agents, api) complete a bounded workload, every droplet done or failed with a reason,
 * every process exits cleanly, and nothing is left behind.
 */
import type { RowDataPacket } from 'mysql2';
import { afterAll, expect, it } from 'vitest';
import { testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl, mysqlUrl } from '../support/services.js';
import { freePortBase, MULTI_PROCESS, runExample } from './fixtures/examples-kit.js';

describeWith('mysql', 'multi-process droplet cloud', () => {
  describeWith('amqp', 'on RabbitMQ', () => {
    const admin = testPool({ connectionLimit: 1 });
    afterAll(() => admin.end());

    it('completes a bounded workload across five processes', async () => {
      const prefix = uniquePrefix('mp');
      const { code, stdout, stderr } = await runExample(
        MULTI_PROCESS,
        [
          ...['--mysql', mysqlUrl(), '--amqp', amqpUrl(), '--table-prefix', prefix],
          ...['--requests', '60', '--rate', '30', '--hypervisors', '4', '--boot-ms', '300'],
          ...['--port-base', String(await freePortBase()), '--timeout', '150'],
        ],
        {},
        175_000,
      );
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      for (const role of ['harpoon', 'scheduler', 'router', 'agents', 'api']) {
        expect(stdout).toMatch(new RegExp(`^\\[${role}\\] ${role}: ready`, 'm'));
        expect(stdout).toMatch(new RegExp(`^\\[${role}\\] ${role}: stopped cleanly`, 'm'));
      }
      expect(stdout).toMatch(/droplets requested 60: booted \d+, failed \d+, cancelled \d+, unfinished 0/);
      expect(stdout).toContain('every droplet is done or failed with a reason');
      expect(stdout).toContain('every process exited cleanly');
      // Agents reach routers, never the database: only harpoon (and the scheduler's fleet) hold connections.
      const conns = stdout.match(
        /connections: (\d+) agents -> routers; database connections by process: (.+)/,
      );
      expect(conns?.[1]).toBe('12');
      expect(conns?.[2]).toMatch(/router 0, agents 0, api 0$/);
      const harpoon = Number(conns?.[2]?.match(/harpoon (\d+)/)?.[1]);
      expect(harpoon).toBeGreaterThan(0);
      expect(harpoon).toBeLessThanOrEqual(4);
      const [left] = await admin.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
        [`${prefix.replaceAll('_', '\\_')}%`],
      );
      expect(Number(left[0]?.n)).toBe(0);
    }, 180_000);
  });
});
