import { AmqpBus } from '@ctlplane/adapters/amqp';
import { connect } from 'amqplib';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';
import { describeMessageBus } from './message-bus.contract.js';

/** Passive declare on a throwaway connection: a missing queue closes the channel with 404. */
async function queueExists(name: string): Promise<boolean> {
  const conn = await connect(amqpUrl());
  conn.on('error', () => {});
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    return await ch.checkQueue(name).then(
      () => true,
      () => false,
    );
  } finally {
    await conn.close();
  }
}

async function deleteExchanges(names: string[]): Promise<void> {
  const conn = await connect(amqpUrl());
  conn.on('error', () => {});
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    for (const name of names) await ch.deleteExchange(name);
    await ch.close();
  } finally {
    await conn.close();
  }
}

describeWith('amqp', 'AmqpBus', () => {
  describeMessageBus(
    'amqp',
    async ({ topology, prefetch }) =>
      new AmqpBus({
        urls: amqpUrl(),
        topology,
        prefetch,
        closeTimeoutMs: 30_000,
        connectionName: 'ctlplane-contract',
      }),
    { deleteExchanges, queueExists },
  );
});
