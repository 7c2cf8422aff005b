import { MemoryBroker, MemoryBus } from '@ctlplane/adapters/memory';
import type { Delivery } from '@ctlplane/core';
import { describe, expect, it, vi } from 'vitest';
import { errorLog } from '../support/error-log.js';

const WAIT = { timeout: 5_000, interval: 5 };

describe('MemoryBus specifics', () => {
  it('dead-letters the oldest message under drop-head instead of refusing the publish', async () => {
    const bus = new MemoryBus({
      topology: { queues: [{ name: 'q', bindings: ['k'], maxLength: 3, overflow: 'drop-head' }] },
    });
    for (let n = 0; n < 5; n++) await bus.publish({ routingKey: 'k', body: n, id: `m-${n}` });
    expect(bus.broker.stats('q')).toEqual({ ready: 3, unacked: 0 });
    expect(bus.broker.stats('q.dead-letter')).toEqual({ ready: 2, unacked: 0 });
    const live: string[] = [];
    const dead: string[] = [];
    await bus.subscribe({ queue: 'q' }, (d) => void live.push(d.message.id));
    await bus.subscribe({ queue: 'q', deadLetters: true }, (d) => void dead.push(d.message.id));
    await vi.waitFor(() => expect(live.length + dead.length).toBe(5), WAIT);
    expect(live).toEqual(['m-2', 'm-3', 'm-4']);
    expect(dead).toEqual(['m-0', 'm-1']);
    await bus.close();
  });

  it('shares queues between buses on one broker, and refuses a conflicting declaration', async () => {
    const broker = new MemoryBroker();
    const a = new MemoryBus({
      broker,
      topology: { queues: [{ name: 'q', bindings: ['k'], deliveryLimit: 2 }] },
    });
    await a.publish({ routingKey: 'k', body: 1 });
    await a.close();
    expect(() => new MemoryBus({ broker, topology: { queues: [{ name: 'q', deliveryLimit: 3 }] } })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    const b = new MemoryBus({ broker });
    const got: unknown[] = [];
    await b.subscribe({ queue: 'q', deliveryLimit: 2 }, (d) => void got.push(d.message.body));
    await vi.waitFor(() => expect(got).toEqual([1]), WAIT);
    await b.close();
  });

  it('gives unsettled deliveries back on cancel, and ignores a settle that comes too late', async () => {
    const bus = new MemoryBus({ cancelTimeoutMs: 50 });
    const held: Delivery[] = [];
    const sub = await bus.subscribe(
      { queue: 'q', bindings: ['k'], autoAck: false },
      (d) => void held.push(d),
    );
    await bus.publishMany([1, 2].map((n) => ({ routingKey: 'k', body: n })));
    await vi.waitFor(() => expect(held).toHaveLength(2), WAIT);
    await sub.cancel();
    held[0]!.ack();
    expect(bus.broker.stats('q')).toEqual({ ready: 2, unacked: 0 });
    const again: Delivery[] = [];
    await bus.subscribe({ queue: 'q' }, (d) => void again.push(d));
    await vi.waitFor(() => expect(again).toHaveLength(2), WAIT);
    expect(again.map((d) => d.message.deliveryCount)).toEqual([2, 2]);
    await bus.close();
  });

  it('deletes a queue with its dead-letter queue and cancels its subscriptions', async () => {
    const bus = new MemoryBus();
    const sub = await bus.subscribe({ queue: 'q', bindings: ['k'] }, () => {});
    await bus.deleteQueue('q');
    expect(sub.cancelled).toBe(true);
    expect(bus.broker.stats('q')).toBeNull();
    expect(bus.broker.stats('q.dead-letter')).toBeNull();
    await bus.publish({ routingKey: 'k', body: 1 });
    await bus.close();
  });

  it('reports handler failures and redeliveries as events', async () => {
    const bus = new MemoryBus();
    const events: string[] = [];
    bus.on('bus:handler:failed', (e) => events.push(`failed:${e.deliveryCount}:${e.error.message}`));
    bus.on('bus:redelivered', (e) => events.push(`redelivered:${e.deliveryCount}`));
    bus.on('bus:published', (e) => events.push(`published:${e.count}`));
    let calls = 0;
    await bus.subscribe({ queue: 'q', bindings: ['k'] }, () => {
      if (++calls === 1) throw new Error('once');
    });
    await bus.publish({ routingKey: 'k', body: 1 });
    await vi.waitFor(() => expect(calls).toBe(2), WAIT);
    expect(events).toEqual(['published:1', 'failed:1:once', 'redelivered:2']);
    await bus.close();
  });

  it('survives a listener that throws: the publish resolves and delivery goes on', async () => {
    const { logger, errors } = errorLog();
    const bus = new MemoryBus({ logger });
    bus.on('bus:published', () => {
      throw new Error('bad listener');
    });
    bus.on('bus:redelivered', () => {
      throw new Error('bad listener');
    });
    const got: number[] = [];
    await bus.subscribe({ queue: 'q', bindings: ['k'] }, (d) => {
      got.push(d.message.deliveryCount);
      if (d.message.deliveryCount === 1) d.nack();
    });
    await expect(bus.publish({ routingKey: 'k', body: 1 })).resolves.toBeUndefined();
    await vi.waitFor(() => expect(got).toEqual([1, 2]), WAIT);
    expect(errors).toEqual(['bus event listener threw', 'bus event listener threw']);
    await bus.close();
  });
});
