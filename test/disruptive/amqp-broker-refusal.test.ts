/**
 * regression(relay-stall), the broker's side: a broker whose `max_message_size` is below the
 * bus's `maxMessageBytes` closes the publisher channel on the one message it refuses. The bus used
 * to put every unconfirmed message back and send them again, forever (each publish then timed out
 * as a transient UnavailableError and the relay retried the page for good). It now sends the
 * messages that were in flight one at a time, fails the refused one with a ValidationError, and
 * the relay parks that change while every other change reaches the broker.
 *
 * Disruptive: it lowers the shared broker's `max_message_size` for its duration (run it under
 * `/work/coord/svc excl`), and puts the old value back.
 */
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { isCtlplaneError, regionPattern, wireEventSchema } from '@ctlplane/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { create } from '../contract/event-store.fixtures.js';
import { harpoonStack } from '../support/harpoon-stack.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { rabbitmqctl } from '../support/rabbitmq.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';

const BROKER_MAX = 300_000;

describeWith('mysql', 'a broker that refuses a message the bus accepts', () => {
  describeWith('amqp', 'on RabbitMQ', () => {
    const admin = testPool({ connectionLimit: 1 });
    const prefix = uniquePrefix('refuse');
    const exchange = `ctl-refuse-${randomBytes(3).toString('hex')}`;
    let previous = '';

    beforeAll(async () => {
      const { stdout } = await rabbitmqctl('eval', 'application:get_env(rabbit, max_message_size).');
      previous = /\{ok,(\d+)\}/.exec(stdout)?.[1] ?? '134217728';
      await rabbitmqctl('eval', `application:set_env(rabbit, max_message_size, ${BROKER_MAX}).`);
    });
    afterAll(async () => {
      await rabbitmqctl('eval', `application:set_env(rabbit, max_message_size, ${previous}).`);
      await dropPrefixed(admin, prefix);
      await admin.end();
    });

    it('fails only the refused message of a pipelined batch, with a ValidationError', async () => {
      const queue = `refuse-q-${randomBytes(3).toString('hex')}`;
      const bus = new AmqpBus({
        urls: amqpUrl(),
        topology: { exchange, queues: [{ name: queue, bindings: ['t.#'] }] },
      });
      const ids: string[] = [];
      await bus.subscribe({ queue }, (d) => void ids.push(d.message.id));
      try {
        const messages = ['a', 'big', 'b', 'c'].map((id) => ({
          id,
          routingKey: 't.x',
          body: id === 'big' ? 'x'.repeat(BROKER_MAX + 100) : id,
        }));
        const err = await bus.publishMany(messages).catch((e: unknown) => e);
        expect(isCtlplaneError(err, 'VALIDATION')).toBe(true);
        expect((err as Error).message).toMatch(/message big: the broker refused it: .*max size/);
        await expect.poll(() => [...new Set(ids)].sort(), { timeout: 10_000 }).toEqual(['a', 'b', 'c']);
        await bus.publish({ id: 'after', routingKey: 't.x', body: 'after' }); // the channel is back
      } finally {
        await bus.deleteQueue(queue).catch(() => {});
        await bus.close();
      }
    });

    it('lets the relay park that change and publish every other one', async () => {
      const stack = await harpoonStack(prefix, exchange, { relay: { batchSize: 16, pollMs: 20 } });
      const queue = `refuse-b-${randomBytes(3).toString('hex')}`;
      const consumer = new AmqpBus({
        urls: amqpUrl(),
        topology: { exchange, queues: [{ name: queue, bindings: [regionPattern('b')] }] },
      });
      const seen = new Set<number>();
      await consumer.subscribe({ queue }, (d) => void seen.add(wireEventSchema.parse(d.message.body).id));
      try {
        // Under the store's 512 KiB and the bus's 1 MiB: only the broker refuses it.
        const big = await stack.harpoon.create({
          type: 'blob',
          payload: { data: 'x'.repeat(400_000) },
          region: 'b',
        });
        const rest = await stack.harpoon.createMany(
          Array.from({ length: 30 }, (_, i) => ({ ...create(i), region: 'b' })),
        );
        stack.harpoon.start();
        await expect.poll(() => seen.size, { timeout: 60_000, interval: 100 }).toBe(30);
        expect(rest.every((e) => seen.has(e.id))).toBe(true);
        expect(seen.has(big.id)).toBe(false);
        await expect.poll(() => stack.harpoon.stats.parked, { timeout: 30_000 }).toBe(1);
        const parked = await stack.harpoon.parkedChanges();
        expect(parked.map((p) => p.eventId)).toEqual([big.id]);
        expect(parked[0]!.reason).toMatch(/the broker refused it/);
        await expect.poll(() => stack.harpoon.relayLag(), { timeout: 10_000 }).toBe(0);
      } finally {
        await stack.close();
        await consumer.deleteQueue(queue).catch(() => {});
        await consumer.close();
      }
    });
  });
});
