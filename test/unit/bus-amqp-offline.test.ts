/**
 * AmqpBus with no broker to reach (nothing listens on port 1, or the host does not exist): the
 * outage buffer, its limits and timeouts, `ready()` rejecting within its bound, close settling
 * every promise at once, and URLs never leaking their password.
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

  it.each([
    ['a closed port', `amqp://user:${SECRET}@127.0.0.1:1`, /ECONNREFUSED/],
    ['an unknown host', `amqp://user:${SECRET}@no-such-host.invalid:5672`, /ENOTFOUND|EAI_AGAIN/],
  ])('ready() rejects on %s within readyTimeoutMs, naming the last failure', async (_what, url, cause) => {
    const bus = new AmqpBus({ urls: url, readyTimeoutMs: 400, reconnect: { initialMs: 20, maxMs: 100 } });
    const started = Date.now();
    const err = (await bus.ready().then(
      () => null,
      (e: unknown) => e,
    )) as Error & { transient?: boolean };
    const waited = Date.now() - started;
    expect(err).toMatchObject({ code: 'UNAVAILABLE', transient: true });
    expect(err.message).toMatch(/no broker reachable within 400 ms \(\d+ attempts failed\); last: /);
    expect(err.message).toMatch(cause);
    expect(err.message).not.toContain(SECRET);
    expect(waited).toBeGreaterThanOrEqual(390);
    expect(waited).toBeLessThan(3_000);
    // The bus keeps trying; subscribe waits on ready() and is bounded the same way.
    await expect(bus.subscribe({ queue: 'q' }, () => {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await bus.close();
  });

  it('close() after a failed first connection returns within a second, with a publish pending', async () => {
    // Default closeTimeoutMs (10 s): nothing can be confirmed by a bus that never connected.
    const bus = new AmqpBus({ urls: DEAD, readyTimeoutMs: 200, reconnect: { initialMs: 5, maxMs: 20 } });
    const pending = bus.publish({ routingKey: 'k', body: 1 });
    pending.catch(() => {});
    await expect(bus.ready()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const started = Date.now();
    await bus.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('validates readyTimeoutMs', () => {
    expect(() => new AmqpBus({ urls: DEAD, readyTimeoutMs: 0 })).toThrow(/readyTimeoutMs/);
  });
});
