/**
 * regression(amqp-publisher-slots): AmqpBus lets go of a message's body once the broker confirmed
 * it. Its publish queue kept every taken slot until the queue was compacted (past 4,096 taken
 * messages), so the last few thousand bodies stayed reachable for good: after the abuse suite's
 * 120 events of 500 kB, Harpoon's process held 132 MiB of buffers after a full collection.
 */
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { expect, it } from 'vitest';
import { gcFunction } from '../support/gc.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';

describeWith('amqp', 'AmqpBus publishing large messages', () => {
  it('holds no body after its confirms (regression(amqp-publisher-slots))', async () => {
    const gc = gcFunction();
    const exchange = `ctl-test-release-${randomBytes(3).toString('hex')}`;
    const bus = new AmqpBus({
      urls: amqpUrl(),
      topology: { exchange },
      connectionName: 'ctlplane-release-test',
    });
    try {
      await bus.ready();
      gc();
      const before = process.memoryUsage().arrayBuffers;
      const data = 'x'.repeat(500_000);
      for (let i = 0; i < 8; i++) {
        await Promise.all(
          Array.from({ length: 10 }, (_, j) =>
            bus.publish({ routingKey: `k.${i}.${j}`, body: { data, i, j } }),
          ),
        );
      }
      // Let the client's write and confirm bookkeeping finish before looking.
      await new Promise((r) => setTimeout(r, 200));
      gc();
      gc();
      const held = (process.memoryUsage().arrayBuffers - before) / 1024 / 1024;
      // 80 bodies of 500 kB were published; before the fix all 40 MB of them stayed reachable.
      expect(held).toBeLessThan(8);
    } finally {
      await bus.close();
      const { connect } = await import('amqplib');
      const conn = await connect(amqpUrl());
      const ch = await conn.createChannel();
      await ch.deleteExchange(exchange);
      await ch.deleteExchange(`${exchange}.dead-letter`);
      await conn.close();
    }
  });
});
