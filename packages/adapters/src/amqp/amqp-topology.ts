/**
 * Declaring the bus topology on RabbitMQ: a durable topic exchange, a direct dead-letter exchange,
 * and per queue a durable (quorum by default) queue, its bindings and its dead-letter queue.
 * Every declaration is idempotent, so it runs again after each reconnect.
 *
 * @module
 */
import type { Logger } from '@ctlplane/core';
import type { ResolvedQueue, ResolvedTopology } from '@ctlplane/core/driver';
import type { Channel, ChannelModel, Options } from 'amqplib';
import { guard } from './amqp-connection.js';
import { errorMessage, mapAmqpError } from './amqp-errors.js';
import type { AmqpQueueType } from './amqp-options.js';

/** @internal Arguments of a queue. The broker delivers a message `x-delivery-limit` + 1 times. */
export function queueArguments(
  q: ResolvedQueue,
  deadLetterExchange: string,
  type: AmqpQueueType,
): Options.AssertQueue {
  const args: Record<string, string | number> = {
    'x-queue-type': type,
    'x-max-length': q.maxLength,
    'x-overflow': q.overflow,
  };
  if (type === 'quorum') args['x-delivery-limit'] = q.deliveryLimit - 1;
  if (q.expiresMs !== null) args['x-expires'] = q.expiresMs;
  if (q.deadLetterQueue) {
    args['x-dead-letter-exchange'] = deadLetterExchange;
    args['x-dead-letter-routing-key'] = q.name;
  }
  return { durable: true, arguments: args };
}

/** @internal Arguments of a dead-letter queue: bounded, oldest dropped first, no further dead-lettering. */
export function deadLetterQueueArguments(q: ResolvedQueue, type: AmqpQueueType): Options.AssertQueue {
  return {
    durable: true,
    arguments: { 'x-queue-type': type, 'x-max-length': q.maxLength, 'x-overflow': 'drop-head' },
  };
}

/** @internal Declare the two exchanges. */
export async function declareExchanges(ch: Channel, t: ResolvedTopology): Promise<void> {
  await ch.assertExchange(t.exchange, 'topic', { durable: true });
  await ch.assertExchange(t.deadLetterExchange, 'direct', { durable: true });
}

/** @internal Declare one queue with its bindings and its dead-letter queue. */
export async function declareQueue(
  ch: Channel,
  t: ResolvedTopology,
  q: ResolvedQueue,
  type: AmqpQueueType,
): Promise<void> {
  if (q.deadLetterQueue) {
    await ch.assertQueue(q.deadLetterQueue, deadLetterQueueArguments(q, type));
    await ch.bindQueue(q.deadLetterQueue, t.deadLetterExchange, q.name);
  }
  await ch.assertQueue(q.name, queueArguments(q, t.deadLetterExchange, type));
  for (const pattern of q.bindings) await ch.bindQueue(q.name, t.exchange, pattern);
}

/** @internal Declare the whole topology. */
export async function declareTopology(
  ch: Channel,
  t: ResolvedTopology,
  queues: Iterable<ResolvedQueue>,
  type: AmqpQueueType,
): Promise<void> {
  await declareExchanges(ch, t);
  for (const q of queues) await declareQueue(ch, t, q, type);
}

/**
 * @internal Declare the whole topology on a channel of its own (a failed declaration closes its
 * channel, never the caller's).
 * @throws the mapped error: ConflictError when a queue exists with other arguments
 */
export async function declareOnOwnChannel(
  model: ChannelModel,
  t: ResolvedTopology,
  queues: Iterable<ResolvedQueue>,
  type: AmqpQueueType,
  log: Logger,
): Promise<void> {
  try {
    const ch = await model.createChannel();
    ch.on(
      'error',
      guard(log, 'channel error', (err: Error) => log.warn('declare failed', { error: errorMessage(err) })),
    );
    try {
      await declareTopology(ch, t, queues, type);
    } finally {
      await ch.close().catch(() => {});
    }
  } catch (err) {
    throw mapAmqpError(err, 'declare topology');
  }
}

/** @internal Delete queues (with their messages) on a channel of their own. */
export async function deleteOnOwnChannel(
  model: ChannelModel,
  queues: readonly string[],
  log: Logger,
): Promise<void> {
  try {
    const ch = await model.createChannel();
    ch.on(
      'error',
      guard(log, 'channel error', (err: Error) => log.warn('delete failed', { error: errorMessage(err) })),
    );
    for (const q of queues) await ch.deleteQueue(q);
    await ch.close();
  } catch (err) {
    throw mapAmqpError(err, `delete queue ${queues[0] ?? ''}`);
  }
}
