/**
 * AmqpBus with no broker to reach (nothing listens on port 1): the outage buffer, its limits and
 * timeouts, close settling every promise, and URLs never leaking their password.
 */
import { AmqpBus } from '@ctlplane/adapters/amqp';
import type { Logger } from '@ctlplane/core';
import { describe, expect, it, vi } from 'vitest';

const SECRET = 's3cr3t-pa55';
const DEAD = [`amqp://user:${SECRET}@127.0.0.1:1`, `amqp://user:${SECRET}@127.0.0.2:1/vh`];

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m, f) => void lines.push(`debug ${m} ${JSON.stringify(f ?? {})}`),
    info: (m, f) => void lines.push(`info ${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => void lines.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
    error: (m, f) => void lines.push(`error ${m} ${JSON.stringify(f ?? {})}`),
    child: () => logger,
  };
  return { logger, lines };
}

const offline = (extra: Partial<ConstructorParameters<typeof AmqpBus>[0]> = {}) =>
  new AmqpBus({ urls: DEAD, reconnect: { initialMs: 5, maxMs: 20 }, closeTimeoutMs: 50, ...extra });

describe('AmqpBus without a broker', () => {
  it('validates options without echoing the URL', () => {
    const bad = `http://user:${SECRET}@host`;
    expect(() => new AmqpBus({ urls: [bad] })).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    try {
      new AmqpBus({ urls: [bad] });
    } catch (err) {
      expect((err as Error).message).toMatch(/urls\.0: must be an amqp/);
      expect((err as Error).message).not.toContain(SECRET);
    }
    expect(() => new AmqpBus({ urls: [] })).toThrow(/at least one broker/);
  });

  it('fails a waiting publish with UnavailableError once its timeout passes', async () => {
    const bus = offline({ publishTimeoutMs: 100 });
    await expect(bus.publish({ routingKey: 'k', body: 1 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      transient: true,
    });
    expect(bus.pendingPublishes).toBe(0);
    await bus.close();
  });

  it('refuses publishes past the buffer limit with BusyError, all or nothing', async () => {
    const bus = offline({ maxBufferedMessages: 3 });
    const waiting = [1, 2].map((n) => bus.publish({ routingKey: 'k', body: n }));
    for (const p of waiting) p.catch(() => {});
    await expect(bus.publishMany([3, 4].map((n) => ({ routingKey: 'k', body: n })))).rejects.toMatchObject({
      code: 'BUSY',
      retryAfterMs: expect.any(Number),
    });
    expect(bus.pendingPublishes).toBe(2);
    const third = bus.publish({ routingKey: 'k', body: 3 });
    third.catch(() => {});
    await expect(bus.publish({ routingKey: 'k', body: 4 })).rejects.toMatchObject({ code: 'BUSY' });
    await bus.close();
    for (const p of [...waiting, third]) await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('bounds the buffer by bytes too', async () => {
    const bus = offline({ maxBufferedBytes: 100 });
    await expect(bus.publish({ routingKey: 'k', body: 'x'.repeat(200) })).rejects.toMatchObject({
      code: 'BUSY',
    });
    await bus.close();
  });

  it('settles everything on close: publishes, ready, subscribe; close is idempotent', async () => {
    const bus = offline();
    const closed = { code: 'CLOSED' };
    const settled = [
      expect(bus.ready()).rejects.toMatchObject(closed),
      expect(bus.publish({ routingKey: 'k', body: 1 })).rejects.toMatchObject(closed),
      expect(bus.subscribe({ queue: 'q' }, () => {})).rejects.toMatchObject(closed),
    ];
    const closes = [bus.close(), bus.close()];
    expect(closes[0]).toBe(closes[1]);
    await Promise.all(closes);
    await Promise.all(settled);
    await expect(bus.ready()).rejects.toMatchObject(closed);
  });

  it('tries every URL round-robin with growing backoff, never logging the password', async () => {
    const { logger, lines } = capture();
    const bus = offline({ logger });
    const attempts: { attempt: number; delayMs: number; error: Error }[] = [];
    bus.on('bus:reconnecting', (e) => attempts.push(e));
    await vi.waitFor(() => expect(attempts.length).toBeGreaterThanOrEqual(4), {
      timeout: 10_000,
      interval: 5,
    });
    await bus.close();
    expect(attempts.slice(0, 4).map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(attempts.every((a) => a.delayMs <= 20)).toBe(true);
    const failures = lines.filter((l) => l.startsWith('warn connect failed'));
    expect(failures.some((l) => l.includes('127.0.0.1:1'))).toBe(true);
    expect(failures.some((l) => l.includes('127.0.0.2:1'))).toBe(true);
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(attempts.map((a) => a.error.message).join('\n')).not.toContain(SECRET);
  });
});
