/**
 * A process whose only handle is an AmqpBus must live through a broker restart: a consumer-only
 * worker (one subscription, nothing else) and a script awaiting the docs' `publishWithRetry` loop.
 * RabbitMQ is stopped under both (`rabbitmqctl stop_app`), kept down for a few seconds, and started
 * again. Before the bus's reconnect timers were ref'd, the worker exited with code 0 as soon as the
 * broker went away and the script with code 13 (an unsettled top-level await).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { afterAll, expect, it } from 'vitest';
import { ExampleProcess } from '../integration/fixtures/examples-kit.js';
import { deleteBusTopology, ensureBrokerUp, rabbitmqctl } from '../support/rabbitmq.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';

const CONSUMER = 'test/disruptive/fixtures/amqp-consumer-only.ts';
const PUBLISHER = 'test/disruptive/fixtures/amqp-publish-script.ts';
const OUTAGE_MS = 4_000;

/** Restarting needs the broker's own CLI on this machine (not the case with a remote CTLPLANE_AMQP_URL). */
const canRestart = spawnSync('rabbitmqctl', ['-q', 'status'], { timeout: 60_000 }).status === 0;

describeWith('amqp', 'a process whose only handle is an AmqpBus, across a broker restart', () => {
  const tag = randomBytes(4).toString('hex');
  const exchange = `ctl.only-handle.${tag}`;
  const queue = `ctl.only-handle.${tag}.q`;
  const children: ExampleProcess[] = [];

  afterAll(async () => {
    for (const c of children) await c.stop('SIGKILL');
    if (canRestart) await ensureBrokerUp();
    await deleteBusTopology(exchange, queue);
  }, 120_000);

  const title = 'stays alive, reconnects and receives what was published after the restart; exits on close';
  it.skipIf(!canRestart)(
    canRestart ? title : `${title} [SKIPPED: rabbitmqctl cannot reach a local broker]`,
    async () => {
      const consumer = new ExampleProcess(CONSUMER, [amqpUrl(), exchange, queue]);
      children.push(consumer);
      await consumer.waitFor(/^subscribed$/m);
      const script = new ExampleProcess(PUBLISHER, [amqpUrl(), exchange, 'during-outage']);
      children.push(script);
      await script.waitFor(/^connected$/m);

      await rabbitmqctl('stop_app');
      try {
        await consumer.waitFor(/^disconnected$/m, 30_000);
        await script.waitFor(/^publishing$/m, 30_000);
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
        // Both are still there during the outage, with nothing but the bus to hold them.
        expect(consumer.child.exitCode, consumer.stdout).toBeNull();
        expect(script.child.exitCode, script.stdout).toBeNull();
      } finally {
        await rabbitmqctl('start_app');
      }
      await ensureBrokerUp();

      // The script's loop publishes once the broker is back, then closes its bus and exits 0.
      expect(await script.exited, `${script.stdout}\n${script.stderr}`).toBe(0);
      expect(script.stdout).toMatch(/^published$/m);

      // The worker reconnected on its own and receives what is published after the restart.
      await consumer.waitFor(/^connected$/m, 60_000);
      const publisher = new AmqpBus({
        urls: amqpUrl(),
        topology: { exchange },
        connectionName: 'ctlplane-after-restart',
      });
      try {
        await publisher.publish({ routingKey: 'k', body: 1, id: 'after-restart' });
      } finally {
        await publisher.close();
      }
      await consumer.waitFor(/^got after-restart$/m, 60_000);
      await consumer.waitFor(/^got during-outage$/m, 60_000);
      expect(consumer.child.exitCode).toBeNull();

      // close() releases everything the bus held: the process ends by itself, with code 0.
      consumer.child.kill('SIGTERM');
      expect(await consumer.exited, consumer.stdout).toBe(0);
      expect(consumer.stdout).toMatch(/^closed\nexit 0$/m);
    },
  );
});
