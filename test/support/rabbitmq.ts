/**
 * Controlling the local RabbitMQ from disruptive tests: `rabbitmqctl`, and waiting until the
 * broker accepts AMQP connections again.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { amqpUrl } from './services.js';

const run = promisify(execFile);

/** Run `rabbitmqctl <args>` (two minutes at most). */
export const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', args, { timeout: 120_000 });

/** Wait until the broker accepts AMQP connections again (start_app if it is not running). */
export async function ensureBrokerUp(): Promise<void> {
  await rabbitmqctl('start_app').catch(() => {});
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const c = await connect(amqpUrl(), { timeout: 2_000 });
      c.on('error', () => {});
      await c.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Delete a bus topology a test declared: the queue, the exchange, and their dead-letter twins. */
export async function deleteBusTopology(exchange: string, queue: string): Promise<void> {
  const c = await connect(amqpUrl());
  c.on('error', () => {});
  const ch = await c.createChannel();
  ch.on('error', () => {});
  await ch.deleteQueue(queue);
  await ch.deleteQueue(`${queue}.dead-letter`);
  await ch.deleteExchange(exchange);
  await ch.deleteExchange(`${exchange}.dead-letter`);
  await c.close();
}
