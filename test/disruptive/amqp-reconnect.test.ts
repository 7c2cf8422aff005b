/**
 * The broker is restarted twice (`rabbitmqctl stop_app` / `start_app`) while 100 publishers make
 * 10,000 confirmed publishes. Every confirmed message must reach the consumer; duplicates are
 * allowed (at-least-once), counted and printed.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { isCtlplaneError } from '@ctlplane/core';
import { afterAll, expect, it, vi } from 'vitest';
import { deleteBusTopology, ensureBrokerUp, rabbitmqctl } from '../support/rabbitmq.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';

async function restartBroker(log: string[]): Promise<void> {
  const t0 = Date.now();
  await rabbitmqctl('stop_app');
  log.push(`stop_app after ${Date.now() - t0} ms`);
  await new Promise((r) => setTimeout(r, 1_000));
  await rabbitmqctl('start_app');
  log.push(`start_app done after ${Date.now() - t0} ms`);
}

/** Restarting needs the broker's own CLI on this machine (not the case with a remote CTLPLANE_AMQP_URL). */
const canRestart = spawnSync('rabbitmqctl', ['-q', 'status'], { timeout: 60_000 }).status === 0;

describeWith('amqp', 'AmqpBus across broker restarts', () => {
  const tag = randomBytes(4).toString('hex');
  const exchange = `ctl.disruptive.${tag}`;
  const queue = `ctl.disruptive.${tag}.q`;

  afterAll(async () => {
    if (canRestart) await ensureBrokerUp();
    await deleteBusTopology(exchange, queue);
  }, 120_000);

  const title = 'loses no confirmed message when the broker restarts twice during 10,000 publishes';
  it.skipIf(!canRestart)(
    canRestart ? title : `${title} [SKIPPED: rabbitmqctl cannot reach a local broker]`,
    async () => {
      const opts = {
        urls: amqpUrl(),
        topology: { exchange, queues: [{ name: queue, bindings: ['load.#'] }] },
        publishTimeoutMs: 120_000,
        closeTimeoutMs: 60_000,
        heartbeatSeconds: 5,
        reconnect: { initialMs: 100, maxMs: 1_000 },
      };
      const consumerBus = new AmqpBus({ ...opts, connectionName: 'ctlplane-disruptive-consumer' });
      const publisherBus = new AmqpBus({ ...opts, connectionName: 'ctlplane-disruptive-publisher' });
      const events = { reconnects: 0, republished: 0, disconnects: 0 };
      publisherBus.on('bus:disconnected', () => events.disconnects++);
      publisherBus.on('bus:connected', () => events.reconnects++);
      publisherBus.on('bus:republished', (e) => {
        events.republished += e.count;
      });
      try {
        await Promise.all([consumerBus.ready(), publisherBus.ready()]);
        const received = new Map<string, number>();
        await consumerBus.subscribe({ queue, prefetch: 200 }, (d) => {
          received.set(d.message.id, (received.get(d.message.id) ?? 0) + 1);
        });

        const confirmed = new Set<string>();
        let retries = 0;
        const restarts: string[] = [];
        let chaos: Promise<void> = Promise.resolve();
        const thresholds = [2_000, 6_000];
        let restarted = 0;
        const onConfirm = (id: string): void => {
          confirmed.add(id);
          if (thresholds.length > 0 && confirmed.size >= thresholds[0]!) {
            thresholds.shift();
            // Each restart hits a connected publisher: wait for its reconnection after the last one
            // (back to back, the second restart could land while it is still reconnecting).
            chaos = chaos.then(async () => {
              await vi.waitFor(() => expect(events.reconnects).toBeGreaterThan(restarted), {
                timeout: 60_000,
                interval: 50,
              });
              await restartBroker(restarts);
              restarted++;
            });
          }
        };
        const publisher = async (p: number): Promise<void> => {
          for (let i = 0; i < 100; i++) {
            const id = `p${p}-m${i}`;
            for (;;) {
              try {
                await publisherBus.publish({ routingKey: `load.p${p}`, body: { p, i }, id });
                onConfirm(id);
                break;
              } catch (err) {
                // A publish that failed may still have reached the queue: retry with the same id.
                if (!isCtlplaneError(err, 'UNAVAILABLE') && !isCtlplaneError(err, 'BUSY')) throw err;
                retries++;
              }
            }
          }
        };
        await Promise.all(Array.from({ length: 100 }, (_, p) => publisher(p)));
        await chaos;
        expect(restarts).toHaveLength(4);
        expect(confirmed.size).toBe(10_000);

        await vi.waitFor(() => expect([...confirmed].filter((id) => !received.has(id))).toEqual([]), {
          timeout: 120_000,
          interval: 250,
        });
        const deliveries = [...received.values()].reduce((a, b) => a + b, 0);
        const duplicates = deliveries - received.size;
        console.log(
          `[amqp-reconnect] confirmed=${confirmed.size} received=${received.size} deliveries=${deliveries} ` +
            `duplicates=${duplicates} publish-retries=${retries} republished=${events.republished} ` +
            `publisher-disconnects=${events.disconnects} connects=${events.reconnects} restarts=[${restarts.join('; ')}]`,
        );
        expect(events.disconnects).toBeGreaterThanOrEqual(2);
        expect(received.size).toBe(10_000);
      } finally {
        await Promise.allSettled([publisherBus.close(), consumerBus.close()]);
        await ensureBrokerUp();
      }
    },
  );
});
