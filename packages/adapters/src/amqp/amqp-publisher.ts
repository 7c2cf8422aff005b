/**
 * The publisher of {@link AmqpBus}: a bounded buffer in front of one confirm channel. Publishes
 * are pipelined (many in flight, one confirm each, no round trip per message), writing pauses on
 * `drain` when the channel's write buffer is full, and messages unconfirmed when a channel breaks
 * go back to the front of the buffer and are sent again, with the same message id, on the next.
 * When the broker closes the channel because it refuses one message (over its `max_message_size`),
 * the messages that were in flight are sent again one at a time, so that the refused one is found
 * and failed with an UnpublishableError (permanent) instead of being sent forever.
 *
 * @module
 */
import {
  BusyError,
  ClosedError,
  type Logger,
  sleep,
  UnavailableError,
  UnpublishableError,
} from '@ctlplane/core';
import type { PreparedMessage } from '@ctlplane/core/driver';
import type { ConfirmChannel } from 'amqplib';
import { contentBuffer, publishProperties } from './amqp-codec.js';
import { errorMessage } from './amqp-errors.js';
import type { ResolvedAmqpOptions } from './amqp-options.js';
import { Batch, isPublishRefusal, type Pending } from './amqp-publish-batch.js';

/** @internal */
export class AmqpPublisher {
  readonly #exchange: string;
  readonly #opts: ResolvedAmqpOptions;
  readonly #log: Logger;
  readonly #onRepublish: (count: number) => void;
  /**
   * Messages waiting, from `#head` on. A slot is cleared when its message is taken: a taken
   * message is held by `#inflight` until confirmed and by nothing once settled (slots kept until
   * the next compaction held up to 4,096 published bodies, 130 MiB of 500 kB events, for good).
   */
  #queue: (Pending | undefined)[] = [];
  #head = 0;
  readonly #inflight = new Set<Pending>();
  #count = 0;
  #bytes = 0;
  #ch: ConfirmChannel | null = null;
  #gen = 0;
  #draining = false;
  #sweeper: NodeJS.Timeout | null = null;
  /** Messages still to be sent alone after a refusal (see the module comment). */
  #probing = 0;
  /** Why the broker closed the current channel, when it refused a publish. */
  #refusal: string | null = null;
  #closed = false;
  #idle: (() => void) | null = null;

  /** @param onRepublish - told how many unconfirmed messages go out again after a broken channel */
  constructor(
    exchange: string,
    opts: ResolvedAmqpOptions,
    log: Logger,
    onRepublish: (count: number) => void,
  ) {
    this.#exchange = exchange;
    this.#opts = opts;
    this.#log = log;
    this.#onRepublish = onRepublish;
  }

  /** Messages accepted and not settled yet. */
  get pending(): number {
    return this.#count;
  }

  /**
   * Accept messages (all or none). The promise settles once every one of them is confirmed or
   * failed; it rejects with the failure of the first failed message (others may have gone out).
   * @throws BusyError when the buffer cannot take them all; ClosedError after close
   */
  enqueue(messages: readonly PreparedMessage[]): Promise<void> {
    if (this.#closed) throw new ClosedError('AmqpBus');
    const bytes = messages.reduce((n, m) => n + m.content.length, 0);
    if (
      this.#count + messages.length > this.#opts.maxBufferedMessages ||
      this.#bytes + bytes > this.#opts.maxBufferedBytes
    ) {
      throw new BusyError(
        `publish buffer full (${this.#count} messages, ${this.#bytes} bytes waiting or unconfirmed)`,
        this.#ch ? 100 : 1_000,
      );
    }
    this.#count += messages.length;
    this.#bytes += bytes;
    const deadline = Date.now() + this.#opts.publishTimeoutMs;
    const batch = new Batch(messages.length);
    for (let index = 0; index < messages.length; index++) {
      this.#queue.push({ msg: messages[index]!, deadline, batch, index, state: 'queued', probing: false });
    }
    // Ref'd: a publish someone awaits must get its answer (confirm or timeout) even in a script
    // whose only other handle is this bus. Cleared once nothing is pending.
    this.#sweeper ??= setInterval(() => this.#sweep(), Math.min(1_000, this.#opts.publishTimeoutMs));
    this.#pump();
    return batch.promise;
  }

  /** Publish on this confirm channel from now on. */
  attach(ch: ConfirmChannel): void {
    this.#ch = ch;
    this.#gen++;
    this.#draining = false;
    this.#refusal = null;
    // 'error' comes before 'close': remember whether the broker refused a publish.
    ch.on('error', (err: unknown) => {
      if (this.#ch === ch && isPublishRefusal(err)) this.#refusal = errorMessage(err);
    });
    ch.on('close', () => this.#detach(ch));
    this.#pump();
  }

  /**
   * Stop accepting; wait up to `timeoutMs` for accepted messages to be confirmed, then fail the
   * rest with a ClosedError.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    if (this.#count > 0) {
      const abort = new AbortController();
      const idle = new Promise<void>((resolve) => {
        this.#idle = resolve;
      });
      await Promise.race([idle, sleep(timeoutMs, abort.signal)]);
      abort.abort();
    }
    for (const p of [...this.#inflight, ...this.#waiting()]) this.#settle(p, new ClosedError('AmqpBus'));
    this.#inflight.clear();
    this.#queue = [];
    this.#head = 0;
  }

  #detach(ch: ConfirmChannel): void {
    if (this.#ch !== ch) return;
    this.#ch = null;
    this.#gen++;
    const back = [...this.#inflight].filter((p) => p.state === 'sent');
    this.#inflight.clear();
    const refusal = this.#refusal;
    this.#refusal = null;
    if (refusal && back.length === 1) {
      // Sent alone and refused: this message can never be published as it is.
      this.#settle(
        back[0]!,
        new UnpublishableError(`message ${back[0]!.msg.id}: the broker refused it: ${refusal}`),
      );
      return;
    }
    if (back.length === 0) return;
    for (const p of back) {
      p.state = 'queued';
      if (refusal && !p.probing) {
        p.probing = true;
        this.#probing++;
      }
    }
    this.#queue = [...back, ...this.#waiting()];
    this.#head = 0;
    this.#onRepublish(back.length);
    this.#log.info('channel lost; unconfirmed messages will be republished', { count: back.length });
  }

  #pump(): void {
    const ch = this.#ch;
    if (!ch || this.#draining) return;
    const gen = this.#gen;
    const window = this.#probing > 0 ? 1 : this.#opts.maxInFlight;
    while (this.#head < this.#queue.length && this.#inflight.size < window) {
      const p = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined;
      if (p.state !== 'queued') continue;
      p.state = 'sent';
      this.#inflight.add(p);
      let written: boolean;
      try {
        written = ch.publish(
          this.#exchange,
          p.msg.routingKey,
          contentBuffer(p.msg),
          publishProperties(p.msg),
          (err) => this.#confirmed(p, gen, err),
        );
      } catch (err) {
        this.#inflight.delete(p);
        if ((err as Error)?.name === 'IllegalOperationError') {
          // The channel is closing: keep the message first in line for the next channel.
          p.state = 'queued';
          this.#queue[--this.#head] = p;
          return;
        }
        // Messages are validated before they are queued, so this is no known refusal of the
        // message itself: transient, so that the outbox relay retries instead of parking it.
        this.#settle(
          p,
          new UnavailableError(`message ${p.msg.id}: publish failed: ${errorMessage(err)}`, {
            cause: err,
            transient: true,
          }),
        );
        continue;
      }
      if (!written) {
        this.#log.debug('channel write buffer full; waiting for drain', { inFlight: this.#inflight.size });
        this.#draining = true;
        ch.once('drain', () => {
          if (gen !== this.#gen) return;
          this.#draining = false;
          this.#pump();
        });
        break;
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4_096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The messages not taken yet. */
  #waiting(): Pending[] {
    return this.#queue.slice(this.#head) as Pending[];
  }

  #confirmed(p: Pending, gen: number, err: unknown): void {
    // 'channel closed' arrives for every unconfirmed message before the channel's close event;
    // #detach puts those back in line.
    if (gen !== this.#gen || p.state !== 'sent') return;
    if (err && (err as Error).message !== 'message nacked') return;
    this.#inflight.delete(p);
    this.#settle(
      p,
      err
        ? new BusyError(
            `broker refused message ${p.msg.id} (a queue is full or the broker is overloaded)`,
            1_000,
          )
        : null,
    );
    this.#pump();
  }

  #settle(p: Pending, err: Error | null): void {
    if (p.state === 'done') return;
    p.state = 'done';
    if (p.probing) this.#probing--;
    this.#count--;
    this.#bytes -= p.msg.content.length;
    p.batch.settle(p.index, err);
    if (this.#count === 0) {
      if (this.#sweeper) clearInterval(this.#sweeper);
      this.#sweeper = null;
      this.#idle?.();
    }
  }

  /** Fail messages past their deadline, queued or in flight. */
  #sweep(): void {
    const now = Date.now();
    const expired = (p: Pending) => p.state !== 'done' && p.deadline <= now;
    const error = () =>
      new UnavailableError(
        `publish not confirmed within ${this.#opts.publishTimeoutMs} ms (broker unreachable or slow)`,
        {
          transient: true,
        },
      );
    for (const p of this.#inflight) {
      if (!expired(p)) continue;
      this.#inflight.delete(p);
      this.#settle(p, error());
    }
    let dropped = false;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const p = this.#queue[i]!;
      if (!expired(p)) continue;
      this.#settle(p, error());
      dropped = true;
    }
    // Settled messages leave the queue now, bodies included: with no channel (the broker down),
    // #pump would not reach them, and callers retrying meanwhile would queue behind them.
    if (dropped) {
      this.#queue = this.#waiting().filter((p) => p.state === 'queued');
      this.#head = 0;
    }
    this.#pump();
  }
}
