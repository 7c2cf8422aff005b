/**
 * regression(relay-stall) on MariaDB and RabbitMQ, as a deployment runs it: a change the bus can
 * never publish — larger than the bus's `maxMessageBytes`, or a row from before names were bounded
 * whose routing key is over 255 bytes — is parked in `<prefix>relay_parked`, and the next
 * region's changes still reach the broker. Before, the relay retried that page forever and
 * routers and the scheduler's intake received nothing more. A restarted Harpoon still lists what
 * was parked and starts past it.
 */
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlCursorStore, MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { EventStore, Harpoon, regionPattern, wireEventSchema } from '@ctlplane/core';
import { afterAll, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl, mysqlUrl } from '../support/services.js';

describeWith('mysql', 'Harpoon relay on MariaDB', () => {
  describeWith('amqp', 'and RabbitMQ', () => {
    const admin = testPool({ connectionLimit: 1 });
    const prefix = uniquePrefix('park');
    const exchange = `ctl-test-${randomBytes(3).toString('hex')}`;
    const queue = `park-b-${randomBytes(3).toString('hex')}`;
    afterAll(async () => {
      await dropPrefixed(admin, prefix);
      await admin.end();
    });

    /** Harpoon whose bus carries at most 200 KiB, a message smaller than the store accepts. */
    async function start() {
      const driver = new MysqlEventStoreDriver({ url: mysqlUrl(), tablePrefix: prefix, poolSize: 4 });
      const store = new EventStore({ driver, types: testTypes });
      const cursors = new MysqlCursorStore({ pool: driver.pool, tablePrefix: prefix });
      const bus = new AmqpBus({ urls: amqpUrl(), topology: { exchange }, maxMessageBytes: 200 * 1024 });
      await bus.ready();
      const harpoon = new Harpoon<TestSchemas>({ store, bus, cursors, relay: { batchSize: 8, pollMs: 20 } });
      return {
        driver,
        store,
        harpoon,
        close: async () => {
          await harpoon.close();
          await bus.close();
          await store.close();
        },
      };
    }

    it('parks an unpublishable change and keeps publishing the next region, across a restart', async () => {
      await migrate({ url: mysqlUrl(), tablePrefix: prefix });
      const consumer = new AmqpBus({
        urls: amqpUrl(),
        topology: { exchange, queues: [{ name: queue, bindings: [regionPattern('b')] }] },
      });
      const seen = new Set<number>();
      await consumer.subscribe({ queue, prefetch: 200 }, (d) => {
        seen.add(wireEventSchema.parse(d.message.body).id);
      });
      let stack = await start();
      try {
        // A row from before names were bounded: its routing key would be 4 + 191 + 1 + 191 + … bytes.
        const [legacy] = await stack.driver.append([
          {
            type: 'droplet.create',
            payload: create(0).payload,
            region: 'a'.repeat(191),
            serverId: 's'.repeat(191),
            status: 'placed',
            idempotencyKey: null,
            traceContext: null,
          },
        ]);
        // Accepted by the store (under 512 KiB), too large for this bus.
        const tooBig = await stack.harpoon.create({
          type: 'blob',
          payload: { data: 'x'.repeat(300_000) },
          region: 'a',
        });
        const inB = await stack.harpoon.createMany(
          Array.from({ length: 20 }, (_, i) => ({ ...create(i), region: 'b' })),
        );
        stack.harpoon.start();
        await expect.poll(() => seen.size, { timeout: 30_000, interval: 100 }).toBe(20);
        expect(inB.every((e) => seen.has(e.id))).toBe(true);
        await expect.poll(() => stack.harpoon.relayLag(), { timeout: 10_000 }).toBe(0);
        expect(stack.harpoon.stats.parked).toBe(2);
        const parked = await stack.harpoon.parkedChanges();
        expect(parked.map((p) => p.eventId)).toEqual([tooBig.id, legacy!.id]);
        expect(parked[0]!.reason).toMatch(/204800-byte limit/);
        expect(parked[1]!.reason).toMatch(/255-byte limit/);

        await stack.close();
        stack = await start();
        const later = await stack.harpoon.create({ ...create(99), region: 'b' });
        stack.harpoon.start();
        await expect.poll(() => seen.has(later.id), { timeout: 30_000, interval: 100 }).toBe(true);
        expect(stack.harpoon.stats.parked).toBe(0); // the saved cursor is past them
        const again = await stack.harpoon.parkedChanges();
        expect(again.map((p) => [p.eventId, p.version, p.seq])).toEqual(
          parked.map((p) => [p.eventId, p.version, p.seq]),
        );
      } finally {
        await stack.close();
        await consumer.deleteQueue(queue).catch(() => {});
        await consumer.close();
      }
    });
  });
});
