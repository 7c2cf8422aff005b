/**
 * One queue of the in-memory broker: ready messages, returned messages (served first), competing
 * consumers with prefetch, the delivery limit and dead-lettering.
 *
 * @module
 */
import { BusyError } from '@ctlplane/core';
import type { PreparedMessage, ResolvedQueue, Settlement } from '@ctlplane/core/driver';

/** @internal A message in a queue, with how often it was delivered. */
export interface QueueEntry {
  /** The message as published. */
  readonly message: PreparedMessage;
  /** Deliveries so far. */
  deliveries: number;
}

/** @internal Why a message left for the dead-letter queue. */
export type DeadLetterReason = 'rejected' | 'delivery-limit' | 'maxlen';

/** @internal A consumer as the queue sees it. */
export interface QueueConsumer {
  /** True while it may take another delivery (below prefetch, not cancelled). */
  hasCapacity(): boolean;
  /** Hand it a message; it settles through {@link MemoryQueue.settle}. */
  deliver(entry: QueueEntry): void;
}

/** @internal A FIFO of entries with O(1) push, unshift and shift. */
class Deque {
  #items: (QueueEntry | undefined)[] = new Array(16);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(e: QueueEntry): void {
    this.#grow();
    this.#items[(this.#head + this.#size) % this.#items.length] = e;
    this.#size++;
  }

  shift(): QueueEntry | undefined {
    if (this.#size === 0) return undefined;
    const e = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return e;
  }

  #grow(): void {
    if (this.#size < this.#items.length) return;
    const next: (QueueEntry | undefined)[] = new Array(this.#items.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = next;
    this.#head = 0;
  }
}

/** @internal One in-memory queue. */
export class MemoryQueue {
  /** Its settings. */
  readonly config: ResolvedQueue;
  readonly #ready = new Deque();
  readonly #returned = new Deque();
  readonly #consumers: QueueConsumer[] = [];
  readonly #deadLetter: (entry: QueueEntry, reason: DeadLetterReason) => void;
  #next = 0;
  #unacked = 0;
  #scheduled = false;
  #deleted = false;
  readonly #expire: () => void;
  #expiry: NodeJS.Timeout | null = null;

  /**
   * @param deadLetter - where dead letters go (the broker routes them to the dead-letter queue)
   * @param expire - called when the queue has been unused for `expiresMs`
   */
  constructor(
    config: ResolvedQueue,
    deadLetter: (entry: QueueEntry, reason: DeadLetterReason) => void,
    expire: () => void,
  ) {
    this.config = config;
    this.#deadLetter = deadLetter;
    this.#expire = expire;
  }

  /** Declared again: an unused queue's expiry starts over. */
  touch(): void {
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#expiry = null;
    if (this.config.expiresMs === null || this.#consumers.length > 0 || this.#deleted) return;
    this.#expiry = setTimeout(this.#expire, this.config.expiresMs).unref();
  }

  /** Messages waiting for a consumer (delivered, unsettled ones excluded): what `maxLength` bounds. */
  get depth(): number {
    return this.#ready.size + this.#returned.size;
  }

  /** Messages delivered and not settled yet. */
  get unacked(): number {
    return this.#unacked;
  }

  /** True when one more message would exceed `maxLength` under `reject-publish`. */
  get full(): boolean {
    return this.config.overflow === 'reject-publish' && this.depth >= this.config.maxLength;
  }

  /** Append a message (the broker checked `full` first). */
  enqueue(message: PreparedMessage, deliveries = 0): void {
    if (this.#deleted) return;
    if (this.full) throw new BusyError(`queue ${this.config.name} is full`, 1_000);
    this.#ready.push({ message, deliveries });
    while (this.depth > this.config.maxLength && this.#dropHead()) {}
    this.#schedule();
  }

  /** Add a competing consumer. */
  addConsumer(c: QueueConsumer): void {
    this.#consumers.push(c);
    this.touch();
    this.#schedule();
  }

  /** Stop delivering to a consumer (its unsettled entries come back through `settle`). */
  removeConsumer(c: QueueConsumer): void {
    const i = this.#consumers.indexOf(c);
    if (i >= 0) this.#consumers.splice(i, 1);
    this.touch();
  }

  /** A consumer has room again. */
  wake(): void {
    this.#schedule();
  }

  /**
   * Settle a delivered entry. A requeue past the delivery limit dead-letters instead; returns
   * what really happened.
   */
  settle(entry: QueueEntry, s: Settlement): Settlement {
    this.#unacked--;
    if (this.#deleted || s === 'ack') return s;
    if (s === 'requeue' && entry.deliveries < this.config.deliveryLimit) {
      this.#returned.push(entry);
      this.#schedule();
      return 'requeue';
    }
    this.#deadLetter(entry, s === 'requeue' ? 'delivery-limit' : 'rejected');
    return 'dead-letter';
  }

  /** Drop everything; later settlements are ignored. */
  delete(): void {
    this.#deleted = true;
    this.touch();
    this.#consumers.length = 0;
    while (this.#ready.shift()) {}
    while (this.#returned.shift()) {}
  }

  #dropHead(): boolean {
    const e = this.#returned.shift() ?? this.#ready.shift();
    if (e) this.#deadLetter(e, 'maxlen');
    return e !== undefined;
  }

  #schedule(): void {
    if (this.#scheduled || this.#deleted) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: a consumer that requeues forever must not starve I/O.
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#ready.size + this.#returned.size > 0) {
      const consumer = this.#pickConsumer();
      if (!consumer) return;
      const entry = (this.#returned.shift() ?? this.#ready.shift())!;
      entry.deliveries++;
      this.#unacked++;
      consumer.deliver(entry);
    }
  }

  /** Round-robin over consumers with room. */
  #pickConsumer(): QueueConsumer | undefined {
    const n = this.#consumers.length;
    for (let i = 0; i < n; i++) {
      const c = this.#consumers[(this.#next + i) % n]!;
      if (c.hasCapacity()) {
        this.#next = (this.#next + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }
}
