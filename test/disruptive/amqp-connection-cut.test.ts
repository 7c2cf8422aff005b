/**
 * The bus's connection is cut (a TCP proxy in front of RabbitMQ destroys every socket) three
 * times while thousands of pipelined publishes are unconfirmed: those are republished with their
 * ids, no confirmed message is lost, and no amqplib error escapes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { isCtlplaneError } from '@ctlplane/core';
import { afterAll, expect, it, vi } from 'vitest';
import { deleteBusTopology } from '../support/rabbitmq.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';

/** A TCP proxy to the broker whose connections the test can cut at will. */
async function proxy(): Promise<{ url: string; cut(): number; close(): Promise<void> }> {
  const target = new URL(amqpUrl());
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 5672), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(amqpUrl());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut: () => {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describeWith('amqp', 'AmqpBus when its connection is cut', () => {
  const tag = randomBytes(4).toString('hex');
  const exchange = `ctl.cut.${tag}`;
  const queue = `ctl.cut.${tag}.q`;

  afterAll(async () => {
    await deleteBusTopology(exchange, queue);
  });

  it('republishes unconfirmed messages and loses none across three cut connections', async () => {
    const link = await proxy();
    const topology = { exchange, queues: [{ name: queue, bindings: ['cut.#'] }] };
    const consumer = new AmqpBus({ urls: amqpUrl(), topology });
    const publisher = new AmqpBus({
      urls: link.url,
      topology,
      publishTimeoutMs: 60_000,
      reconnect: { initialMs: 50, maxMs: 500 },
    });
    const stats = { republished: 0, disconnects: 0, connects: 0, cuts: 0, retries: 0 };
    publisher.on('bus:republished', (e) => {
      stats.republished += e.count;
    });
    publisher.on('bus:disconnected', () => stats.disconnects++);
    publisher.on('bus:connected', () => stats.connects++);
    try {
      const received = new Map<string, number>();
      await consumer.subscribe({ queue, prefetch: 500 }, (d) => {
        received.set(d.message.id, (received.get(d.message.id) ?? 0) + 1);
      });
      await publisher.ready();
      const confirmed = new Set<string>();
      const batch = async (b: number): Promise<void> => {
        const messages = Array.from({ length: 500 }, (_, i) => ({
          routingKey: `cut.b${b}`,
          body: { b, i },
          id: `b${b}-m${i}`,
        }));
        for (;;) {
          try {
            await publisher.publishMany(messages);
            break;
          } catch (err) {
            if (!isCtlplaneError(err, 'UNAVAILABLE') && !isCtlplaneError(err, 'BUSY')) throw err;
            stats.retries++;
          }
        }
        for (const m of messages) confirmed.add(m.id);
      };
      // Cut the link whenever at least 1,000 publishes are unconfirmed, three times.
      const chaos = (async () => {
        while (stats.cuts < 3) {
          await vi.waitFor(() => expect(publisher.pendingPublishes).toBeGreaterThanOrEqual(1_000), {
            timeout: 60_000,
            interval: 1,
          });
          const connects = stats.connects;
          if (link.cut() > 0) stats.cuts++;
          await vi.waitFor(() => expect(stats.connects).toBeGreaterThan(connects), {
            timeout: 60_000,
            interval: 5,
          });
        }
      })();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < 20) await batch(next++);
      };
      await Promise.all([worker(), worker(), worker(), worker(), chaos]);
      expect(confirmed.size).toBe(10_000);
      await vi.waitFor(() => expect([...confirmed].filter((id) => !received.has(id))).toEqual([]), {
        timeout: 60_000,
        interval: 100,
      });
      const deliveries = [...received.values()].reduce((a, b) => a + b, 0);
      console.log(
        `[amqp-connection-cut] confirmed=${confirmed.size} received=${received.size} duplicates=${deliveries - received.size} ` +
          `republished=${stats.republished} publish-retries=${stats.retries} cuts=${stats.cuts} ` +
          `publisher-disconnects=${stats.disconnects}`,
      );
      expect(stats.disconnects).toBe(3);
      expect(stats.republished).toBeGreaterThan(0);
    } finally {
      await Promise.allSettled([publisher.close(), consumer.close()]);
      await link.close();
    }
  });
});
