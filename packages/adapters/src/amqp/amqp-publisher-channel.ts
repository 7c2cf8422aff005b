/**
 * The confirm channel behind {@link AmqpPublisher}: opened on every connection, and opened again
 * (after declaring the topology again, in case an exchange was deleted) when it breaks on its own.
 *
 * @module
 */
import type { Logger } from '@ctlplane/core';
import type { ChannelModel } from 'amqplib';
import { guard } from './amqp-connection.js';
import { errorMessage } from './amqp-errors.js';
import type { AmqpPublisher } from './amqp-publisher.js';

/** @internal What reopening needs from the bus. */
export interface PublisherChannelContext {
  /** Logger. */
  log: Logger;
  /** True while `model` is the bus's live connection and the bus is not closing. */
  isCurrent(model: ChannelModel): boolean;
  /** Declare the topology again. */
  redeclare(model: ChannelModel): Promise<void>;
  /** Backoff before reopening attempt `attempt` (from 0). */
  retryDelay(attempt: number): number;
}

/** @internal Open a confirm channel on `model` and hand it to the publisher. */
export async function openPublisherChannel(
  model: ChannelModel,
  publisher: AmqpPublisher,
  ctx: PublisherChannelContext,
): Promise<void> {
  const ch = await model.createConfirmChannel();
  const log = ctx.log;
  ch.on(
    'error',
    guard(log, 'channel error', (err: Error) =>
      log.warn('publisher channel error', { error: errorMessage(err) }),
    ),
  );
  ch.on(
    'close',
    guard(log, 'channel close', () => reopen(model, publisher, ctx, 0)),
  );
  publisher.attach(ch);
}

/** After a backoff, and only while `model` is still the connection: topology, then a new channel. */
function reopen(
  model: ChannelModel,
  publisher: AmqpPublisher,
  ctx: PublisherChannelContext,
  attempt: number,
): void {
  // Checked only after the backoff: the channel may break while the connection is still being set
  // up, before it counts as current.
  setTimeout(() => {
    if (!ctx.isCurrent(model)) return;
    ctx
      .redeclare(model)
      .then(() => openPublisherChannel(model, publisher, ctx))
      .then(() => ctx.log.info('publisher channel reopened'))
      .catch((err: unknown) => {
        ctx.log.warn('reopening the publisher channel failed', { error: errorMessage(err) });
        reopen(model, publisher, ctx, attempt + 1);
      });
  }, ctx.retryDelay(attempt)).unref();
}
