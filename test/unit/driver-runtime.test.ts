/**
 * What `EventStore` and `Fleet` put around their drivers is one shared runtime (open check,
 * idempotent close, bounded retries of transient failures, error mapping, batch bounds): every
 * case here runs on both wrappers, over the memory drivers with one method made to fail on demand.
 */
import { MemoryEventStoreDriver, MemoryFleetDriver } from '@ctlplane/adapters/memory';
import { defineEventTypes, EventStore, Fleet, isCtlplaneError, UnavailableError } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../support/until.js';

/** A wrapper whose driver's `get` throws the queued failures first, then answers. */
interface Subject {
  /** Failures `get` throws, one per call, before it answers (`forever` keeps the last). */
  readonly failures: unknown[];
  forever: boolean;
  readonly calls: () => number;
  readonly closes: () => number;
  readonly read: () => Promise<unknown>;
  readonly emptyBatch: () => Promise<unknown>;
  readonly close: () => Promise<void>;
  readonly retried: () => number;
}

function failing<T extends { get(id: never): Promise<unknown>; close(): Promise<void> }>(
  driver: T,
): { driver: T; subject: Pick<Subject, 'failures' | 'forever' | 'calls' | 'closes'> } {
  const state = { failures: [] as unknown[], forever: false, calls: 0, closes: 0 };
  const get = driver.get.bind(driver);
  const close = driver.close.bind(driver);
  Object.assign(driver, {
    get: (id: never) => {
      state.calls++;
      if (state.failures.length === 0) return get(id);
      const failure = state.forever ? state.failures[0] : state.failures.shift();
      return Promise.reject(failure);
    },
    close: () => {
      state.closes++;
      return close();
    },
  });
  const subject = {
    failures: state.failures,
    get forever() {
      return state.forever;
    },
    set forever(v: boolean) {
      state.forever = v;
    },
    calls: () => state.calls,
    closes: () => state.closes,
  };
  return { driver, subject };
}

const types = defineEventTypes({ t: z.object({}) });

const subjects: [string, (retries: number) => Subject][] = [
  [
    'EventStore',
    (retries) => {
      const { driver, subject } = failing(new MemoryEventStoreDriver());
      const store = new EventStore({ driver, types, retries });
      let retried = 0;
      store.on('store:retry', () => retried++);
      return Object.assign(subject, {
        read: () => store.get(1),
        emptyBatch: () => store.append([]),
        close: () => store.close(),
        retried: () => retried,
      });
    },
  ],
  [
    'Fleet',
    (retries) => {
      const { driver, subject } = failing(new MemoryFleetDriver());
      const fleet = new Fleet({ driver, retries, maxBatchSize: 2 });
      return Object.assign(subject, {
        read: () => fleet.get('hv1'),
        emptyBatch: () => fleet.upsert(new Array(3).fill({ id: 'hv1', region: 'r', capacity: {} })),
        close: () => fleet.close(),
        retried: () => subject.calls() - 1,
      });
    },
  ],
];

const transient = () => new UnavailableError('connection reset', { transient: true });

describe.each(subjects)('the driver runtime around %s', (name, make) => {
  it('retries a transient failure thrown by another copy of the package (by code, not instanceof)', async () => {
    const s = make(5);
    const foreign = () =>
      Object.assign(new Error('connection reset'), { code: 'UNAVAILABLE', transient: true });
    s.failures.push(foreign(), foreign());
    await expect(s.read()).resolves.toBeNull();
    expect(s.calls()).toBe(3);
    expect(s.retried()).toBe(2);
  });

  it('retries a transient failure and returns the answer', async () => {
    const s = make(5);
    s.failures.push(transient(), transient());
    await expect(s.read()).resolves.toBeNull();
    expect(s.calls()).toBe(3);
    expect(s.retried()).toBe(2);
  });

  it('gives up after `retries` retries, and never retries a failure that is not transient', async () => {
    const s = make(2);
    s.failures.push(transient(), transient(), transient());
    await expect(s.read()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'connection reset' });
    expect(s.calls()).toBe(3);
    const t = make(5);
    t.failures.push(new UnavailableError('access denied', { transient: false }));
    await expect(t.read()).rejects.toMatchObject({ message: 'access denied' });
    expect(t.calls()).toBe(1);
  });

  it('maps whatever else a driver throws to UnavailableError naming the driver and the call', async () => {
    const s = make(5);
    s.failures.push(new TypeError('socket is null'), 'a bare string');
    const first = await s.read().catch((e: unknown) => e);
    expect(isCtlplaneError(first, 'UNAVAILABLE')).toBe(true);
    expect((first as Error).message).toBe('memory get failed: socket is null');
    expect((first as Error).cause).toBeInstanceOf(TypeError);
    // A thrown non-Error is named too, not reported as "undefined".
    await expect(s.read()).rejects.toMatchObject({ message: 'memory get failed: a bare string' });
    expect(s.calls()).toBe(2);
  });

  it('closes once, refuses calls afterwards, and stops retrying when closed mid-call', async () => {
    const s = make(20);
    s.failures.push(transient());
    s.forever = true;
    const pending = s.read();
    await until(() => s.calls() >= 1, `${name} to call its driver`);
    const [a, b] = [s.close(), s.close()];
    expect(a).toBe(b);
    await a;
    await expect(pending).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(s.calls()).toBeLessThanOrEqual(2);
    expect(s.closes()).toBe(1);
    await expect(s.read()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses a batch out of bounds before the driver sees it', async () => {
    const s = make(5);
    const err = await s.emptyBatch().catch((e: unknown) => e);
    expect(isCtlplaneError(err, 'VALIDATION')).toBe(true);
    expect((err as Error).message).toMatch(
      name === 'EventStore'
        ? /^events: must be an array of 1 to 5000 events$/
        : /^servers: must be an array of at most 2 items$/,
    );
  });
});
