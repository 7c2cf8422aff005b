/**
 * A driver that names a `writeConcurrency` gets at most that many write calls at once from its
 * EventStore (the rest wait in order, at most `maxQueuedWrites` of them); reads are not held back,
 * and a driver without one is not limited.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { BusyError, type DriverCapabilities, EventStore } from '@ctlplane/core';
import type { AppendRecord, EventStoreDriver } from '@ctlplane/core/driver';
import { describe, expect, it } from 'vitest';
import { create, testTypes } from '../contract/event-store.fixtures.js';

/** The memory backend, slowed down, counting how many appends run at once. */
function countingDriver(writeConcurrency?: number) {
  const inner = new MemoryEventStoreDriver();
  const stats = { inFlight: 0, peak: 0, order: [] as unknown[] };
  const capabilities: DriverCapabilities = {
    ...inner.capabilities,
    ...(writeConcurrency ? { writeConcurrency } : {}),
  };
  const append = async (records: readonly AppendRecord[]) => {
    stats.inFlight++;
    stats.peak = Math.max(stats.peak, stats.inFlight);
    stats.order.push(records[0]!.payload);
    await new Promise((r) => setTimeout(r, 5));
    stats.inFlight--;
    return inner.append(records);
  };
  const driver = new Proxy(inner, {
    get(target, key) {
      if (key === 'capabilities') return capabilities;
      if (key === 'append') return append;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as EventStoreDriver;
  return { driver, stats };
}

describe('EventStore write concurrency', () => {
  it('runs at most writeConcurrency writes at once, in the order they came', async () => {
    const { driver, stats } = countingDriver(2);
    const store = new EventStore({ driver, types: testTypes });
    const events = Array.from({ length: 10 }, (_, i) => create(i));
    await Promise.all(events.map((e) => store.append([e])));
    expect(stats.peak).toBe(2);
    expect(stats.order).toEqual(events.map((e) => e.payload));
    // Reads are not queued behind writes.
    const slow = Promise.all(events.map((e) => store.append([e])));
    expect((await store.query({ limit: 100 })).events.length).toBeGreaterThanOrEqual(10);
    await slow;
    await store.close();
  });

  it('does not limit a driver that names no writeConcurrency', async () => {
    const { driver, stats } = countingDriver();
    const store = new EventStore({ driver, types: testTypes });
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.append([create(i)])));
    expect(stats.peak).toBe(10);
    await store.close();
  });

  it('regression(write-queue-unbounded): refuses a write past maxQueuedWrites waiting with BusyError', async () => {
    const { driver, stats } = countingDriver(1);
    const store = new EventStore({ driver, types: testTypes, maxQueuedWrites: 3 });
    // One runs, three wait, the other six are refused at once.
    const settled = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.append([create(i)])));
    const refused = settled
      .filter((s) => s.status === 'rejected')
      .map((s) => (s as PromiseRejectedResult).reason);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(4);
    expect(refused).toHaveLength(6);
    for (const err of refused) {
      expect(err).toBeInstanceOf(BusyError);
      expect((err as BusyError).retryAfterMs).toBe(100);
      expect((err as Error).message).toContain('maxQueuedWrites 3');
    }
    expect(stats.order).toHaveLength(4);
    // Once the queue drained, writes are let in again.
    await expect(store.append([create(99)])).resolves.toHaveLength(1);
    await store.close();
  });
});
