/**
 * The bookkeeping of {@link AmqpPublisher}: one publish call (a batch) and one message of it, and
 * how the broker's refusal of one message is recognised.
 *
 * @internal
 * @module
 */
import type { PreparedMessage } from '@ctlplane/core/driver';

/** @internal One publish call: settles when all its messages did, with the first failure by position. */
export class Batch {
  remaining: number;
  failure: { index: number; error: Error } | null = null;
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (err: Error) => void;

  constructor(size: number) {
    this.remaining = size;
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  settle(index: number, error: Error | null): void {
    if (error && (!this.failure || index < this.failure.index)) this.failure = { index, error };
    if (--this.remaining > 0) return;
    if (this.failure) this.#reject(this.failure.error);
    else this.#resolve();
  }
}

/** @internal One message on its way: queued, sent and awaiting its confirm, or done. */
export interface Pending {
  readonly msg: PreparedMessage;
  readonly deadline: number;
  readonly batch: Batch;
  readonly index: number;
  state: 'queued' | 'sent' | 'done';
  /** Sent alone, to find which of the messages in flight the broker refused. */
  probing: boolean;
}

const PRECONDITION_FAILED = 406;
const BASIC_CLASS = 60;
const BASIC_PUBLISH = 40;

/**
 * @internal True for a channel the broker closed because of one `basic.publish` (406
 * PRECONDITION_FAILED: the body is over the broker's `max_message_size`): that message can never
 * be published as it is, unlike a channel lost with the connection.
 */
export function isPublishRefusal(err: unknown): boolean {
  const e = err as { code?: unknown; classId?: unknown; methodId?: unknown } | null;
  return e?.code === PRECONDITION_FAILED && e.classId === BASIC_CLASS && e.methodId === BASIC_PUBLISH;
}
