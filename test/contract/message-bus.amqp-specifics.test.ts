/**
 * What only the AMQP adapter does: several broker URLs, credentials, conflicting declarations,
 * a channel broken under it, `drain`, classic queues, malformed messages from other producers, and
 * properties another client reads (the `timestamp` in POSIX seconds).
 */
import { randomBytes } from 'node:crypto';
import { AmqpBus, type AmqpBusOptions } from '@ctlplane/adapters/amqp';
import type { Logger } from '@ctlplane/core';
import { type ChannelModel, connect } from 'amqplib';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';

const WAIT = { timeout: 30_000, interval: 20 };

describeWith('amqp', 'AmqpBus specifics', () => {
  let admin: ChannelModel;
  let buses: AmqpBus[] = [];
  let names: { exchange: string; queues: string[] } = { exchange: '', queues: [] };

  beforeAll(async () => {
    admin = await connect(amqpUrl());
    admin.on('error', () => {});
  });
  afterAll(async () => admin.close());
  afterEach(async () => {
    await Promise.allSettled(buses.map((b) => b.close()));
    const ch = await admin.createChannel();
    ch.on('error', () => {});
    for (const q of names.queues) {
      await ch.deleteQueue(q);
      await ch.deleteQueue(`${q}.dead-letter`);
    }
    await ch.deleteExchange(names.exchange);
    await ch.deleteExchange(`${names.exchange}.dead-letter`);
    await ch.close();
    buses = [];
    names = { exchange: '', queues: [] };
  });

  function bus(options: Partial<AmqpBusOptions> = {}): AmqpBus {
    names.exchange ||= `ctl.spec.${randomBytes(4).toString('hex')}`;
    const b = new AmqpBus({
      urls: amqpUrl(),
      connectionName: 'ctlplane-specifics',
      ...options,
      topology: { exchange: names.exchange, ...options.topology },
    });
    buses.push(b);
    return b;
  }
  const queue = (): string => {
    const q = `ctl.spec.${randomBytes(4).toString('hex')}`;
    names.queues.push(q);
    return q;
  };
  function capture(): { logger: Logger; lines: string[] } {
    const lines: string[] = [];
    const push = (level: string) => (m: string, f?: object) =>
      void lines.push(`${level} ${m} ${JSON.stringify(f ?? {})}`);
    const logger: Logger = {
      debug: push('debug'),
      info: push('info'),
      warn: push('warn'),
      error: push('error'),
      child: () => logger,
    };
    return { logger, lines };
  }

  it('reaches the broker through the next URL when the first is down', async () => {
    const b = bus({
      urls: ['amqp://guest:guest@127.0.0.1:1', amqpUrl()],
      reconnect: { initialMs: 10, maxMs: 50 },
    });
    const retries: number[] = [];
    b.on('bus:reconnecting', (e) => retries.push(e.attempt));
    await b.ready();
    expect(retries.length).toBeGreaterThanOrEqual(1);
    const q = queue();
    const got: string[] = [];
    await b.subscribe({ queue: q, bindings: ['k'] }, (d) => void got.push(d.message.id));
    await b.publish({ routingKey: 'k', body: 1, id: 'one' });
    await vi.waitFor(() => expect(got).toEqual(['one']), WAIT);
  });

  it('rejects ready with UnauthorizedError on bad credentials, never logging the password', async () => {
    const { logger, lines } = capture();
    const url = new URL(amqpUrl());
    url.password = 'not-the-Pa55word';
    const b = bus({ urls: url.toString(), logger, reconnect: { initialMs: 10, maxMs: 50 } });
    await expect(b.ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await b.close();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('not-the-Pa55word');
  });

  it('reports a conflicting queue declaration as ConflictError and keeps working', async () => {
    const q = queue();
    const first = bus({ topology: { queues: [{ name: q, deliveryLimit: 3 }] } });
    await first.ready();
    const second = new AmqpBus({ urls: amqpUrl(), topology: { exchange: names.exchange } });
    buses.push(second);
    await expect(
      second.subscribe({ queue: q, bindings: ['k'], deliveryLimit: 4 }, () => {}),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const got: number[] = [];
    await second.subscribe(
      { queue: q, bindings: ['k'], deliveryLimit: 3 },
      (d) => void got.push(d.message.body as number),
    );
    await second.publish({ routingKey: 'k', body: 7 });
    await vi.waitFor(() => expect(got).toEqual([7]), WAIT);
  });

  it('survives a channel broken under it (exchange deleted) and delivers everything after', async () => {
    const q = queue();
    const { logger, lines } = capture();
    const b = bus({
      logger,
      reconnect: { initialMs: 10, maxMs: 100 },
      topology: { queues: [{ name: q, bindings: ['k'] }] },
    });
    const got = new Set<string>();
    await b.subscribe({ queue: q }, (d) => void got.add(d.message.id));
    await b.publish({ routingKey: 'k', body: 0, id: 'before' });
    const ch = await admin.createChannel();
    await ch.deleteExchange(names.exchange);
    await ch.close();
    await b.publishMany(
      Array.from({ length: 50 }, (_, n) => ({ routingKey: 'k', body: n, id: `after-${n}` })),
    );
    await vi.waitFor(() => expect(got.size).toBe(51), WAIT);
    expect(lines.some((l) => l.includes('publisher channel error') && l.includes('404'))).toBe(true);
  });

  it('waits for drain when the channel write buffer fills, and confirms everything', async () => {
    const q = queue();
    const { logger, lines } = capture();
    const b = bus({ logger, topology: { queues: [{ name: q, bindings: ['k'] }] } });
    await b.ready();
    const body = 'x'.repeat(1_000);
    await b.publishMany(Array.from({ length: 20_000 }, (_, n) => ({ routingKey: 'k', body: { n, body } })));
    expect(lines.some((l) => l.includes('waiting for drain'))).toBe(true);
    const ch = await admin.createChannel();
    expect((await ch.checkQueue(q)).messageCount).toBe(20_000);
    await ch.close();
  });

  it('runs on classic queues, dead-lettering at the limit on the client side', async () => {
    const q = queue();
    const b = bus({
      queueType: 'classic',
      topology: { queues: [{ name: q, bindings: ['k'], deliveryLimit: 2 }] },
    });
    const attempts: number[] = [];
    await b.subscribe({ queue: q }, (d) => {
      attempts.push(d.message.deliveryCount);
      throw new Error('poison');
    });
    const dead: string[] = [];
    await b.subscribe({ queue: q, deadLetters: true }, (d) => void dead.push(d.message.id));
    await b.publish({ routingKey: 'k', body: 1, id: 'p' });
    await vi.waitFor(() => expect(dead).toEqual(['p']), WAIT);
    expect(attempts).toEqual([1, 2]);
  });

  it('dead-letters a malformed message from another producer', async () => {
    const q = queue();
    const b = bus({ topology: { queues: [{ name: q, bindings: ['k'] }] } });
    const reasons: string[] = [];
    b.on('bus:dead-lettered', (e) => reasons.push(e.reason));
    const good: string[] = [];
    await b.subscribe({ queue: q }, (d) => void good.push(d.message.id));
    const ch = await admin.createConfirmChannel();
    ch.publish(names.exchange, 'k', Buffer.from('{not json'), { messageId: 'bad' });
    ch.publish(names.exchange, 'k', Buffer.from('{"ok":true}'), {});
    await ch.waitForConfirms();
    await ch.close();
    await vi.waitFor(() => expect(reasons).toEqual(['malformed']), WAIT);
    await vi.waitFor(() => expect(good).toHaveLength(1), WAIT);
    expect(good[0]).toMatch(/^sha1:/);
  });

  it('writes the AMQP timestamp property in POSIX seconds (what pika, Java and Go read), ms in a header', async () => {
    const q = queue();
    const b = bus({ topology: { queues: [{ name: q, bindings: ['k'] }] } });
    const before = Date.now();
    await b.publish({ routingKey: 'k', body: 1, id: 'ts', headers: { tag: 'x' } });
    const after = Date.now();
    const ch = await admin.createChannel();
    const raw = await ch.get(q, { noAck: true });
    await ch.close();
    expect(raw).not.toBe(false);
    const { timestamp, headers } = (raw as Exclude<typeof raw, false>).properties;
    expect(Number.isInteger(timestamp)).toBe(true);
    expect(timestamp).toBeGreaterThanOrEqual(Math.floor(before / 1_000));
    expect(timestamp).toBeLessThanOrEqual(Math.ceil(after / 1_000));
    expect(headers).toMatchObject({ tag: 'x', 'ctlplane-timestamp-ms': expect.any(Number) });
    // ctlplane's own consumer still sees milliseconds, and not the header.
    await b.publish({ routingKey: 'k', body: 2, id: 'ts2', headers: { tag: 'y' } });
    const got: { timestamp: number; headers: object }[] = [];
    await b.subscribe({ queue: q }, (d) => void got.push(d.message));
    await vi.waitFor(() => expect(got).toHaveLength(1), WAIT);
    expect(got[0]!.timestamp).toBeGreaterThanOrEqual(before);
    expect(got[0]!.timestamp).toBeLessThanOrEqual(Date.now());
    expect(got[0]!.headers).toEqual({ tag: 'y' });
  });
});
