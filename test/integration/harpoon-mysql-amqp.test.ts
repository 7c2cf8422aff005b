import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { create } from '../contract/event-store.fixtures.js';
import { harpoonStack, recordPublished } from '../support/harpoon-stack.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';

describeWith('mysql', 'Harpoon on MariaDB', () => {
  describeWith('amqp', 'and RabbitMQ', () => {
    const admin = testPool({ connectionLimit: 1 });
    const prefix = uniquePrefix('hp');
    const exchange = `ctl-test-${randomBytes(3).toString('hex')}`;
    afterAll(async () => {
      await dropPrefixed(admin, prefix);
      await admin.end();
    });

    it('serves 1,000 concurrent callers over its small pool and publishes every committed event', async () => {
      const audit = await recordPublished(exchange);
      const stack = await harpoonStack(prefix, exchange);
      try {
        stack.harpoon.start();
        let maxConnections = 0;
        const probe = setInterval(() => {
          maxConnections = Math.max(maxConnections, stack.driver.connections());
        }, 5);
        const created = await Promise.all(
          Array.from({ length: 1_000 }, (_, i) => stack.harpoon.create(create(i))),
        );
        clearInterval(probe);
        expect(new Set(created.map((e) => e.id)).size).toBe(1_000);
        expect(maxConnections).toBeLessThanOrEqual(4);
        expect(stack.harpoon.stats.batches).toBeLessThan(100);
        await expect.poll(() => audit.seen.size, { timeout: 30_000, interval: 100 }).toBe(1_000);
        expect(created.every((e) => audit.seen.has(e.id))).toBe(true);
        await expect.poll(() => stack.harpoon.relayLag(), { timeout: 10_000 }).toBe(0);
      } finally {
        await stack.close();
        await audit.close();
      }
    });
  });
});
