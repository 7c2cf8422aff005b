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
