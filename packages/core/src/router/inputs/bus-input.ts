/**
 * The Harpoon design: the router is pushed every committed change of its region over the message
 * bus (Harpoon's `OutboxRelay` publishes each changed event, as JSON, with `eventRoutingKey`),
 * instead of polling. No query per cycle: the database sees none of the router's reads.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { MessageBus, Subscription } from '../../bus/message-bus.js';
import { regionPattern } from '../../bus/routing.js';
import { busNameSchema } from '../../bus/schemas.js';
import { wireEventSchema } from '../../events/wire.js';
import { parseOrThrow } from '../../validation.js';
import type { RouterInput, RouterInputSink } from './input.js';

/** Options of {@link BusInput}. */
export interface BusInputOptions {
  /** The bus Harpoon's relay publishes changed events on. */
  bus: MessageBus;
  /**
   * This router's queue, bound to its region's pattern. Each replica needs its own (each must see
   * every change). Default: `router.<region>.<random>`, deleted on stop; give a stable name per
   * replica to keep changes queued across a restart.
   */
  queue?: string;
  /**
   * Deliveries in flight (default 64; was 512). What the router holds of them is at most this
   * many times the bus's message limit (1 MiB): 512 let 500 kB events pile up to ~250 MB.
   */
  prefetch?: number;
}

const schema = z
  .object({
    bus: z.custom<MessageBus>(
      (v) => typeof v === 'object' && v !== null && 'subscribe' in v,
      'must be a MessageBus',
    ),
    queue: busNameSchema.optional(),
    prefetch: z.number().int().min(1).max(65_535).default(64),
  })
  .strict();

/**
 * Subscribes the router to its region's changed events on the bus. Each body is parsed with core's
 * {@link wireEventSchema} (the schema Harpoon's relay output, `toWireEvent`, satisfies); a
 * message that is not a changed event is dead-lettered and reported. Duplicates (at-least-once
 * delivery, or overlap with the store feed during a switch) are dropped by the router by
 * (id, version); a body whose `id` and `version` name a version the router already has is acked
 * and dropped before the full parse, as it could change nothing.
 *
 * @example
 * ```ts
 * await router.useInput(new BusInput({ bus, queue: 'router.nyc1.a' }));
 * ```
 */
export class BusInput implements RouterInput {
  /** Input name. */
  readonly kind = 'bus';
  readonly #bus: MessageBus;
  readonly #queue: string | undefined;
  readonly #prefetch: number;
  #sub: Subscription | null = null;
  #active: string | null = null;

  /** @param options - the bus and the queue; validated here */
  constructor(options: BusInputOptions) {
    const o = parseOrThrow(schema, options, 'BusInput options');
    this.#bus = options.bus;
    this.#queue = o.queue;
    this.#prefetch = o.prefetch;
  }

  /** The queue consumed, once started. */
  get queue(): string | null {
    return this.#active;
  }

  async start(sink: RouterInputSink, _from: number): Promise<void> {
    await this.stop();
    const queue = this.#queue ?? `router.${sink.region}.${randomBytes(4).toString('hex')}`;
    this.#active = queue;
    this.#sub = await this.#bus.subscribe(
      { queue, bindings: [regionPattern(sink.region)], prefetch: this.#prefetch },
      (delivery) => {
        const body = delivery.message.body as { id?: unknown; version?: unknown } | null;
        // Echoes of the router's own acks are most of the traffic: drop them before a full parse.
        if (isCount(body?.id) && isCount(body?.version) && sink.has(body.id, body.version)) return;
        const parsed = wireEventSchema.safeParse(delivery.message.body);
        if (!parsed.success) {
          delivery.reject();
          sink.error(new Error(`bus message ${delivery.message.id.slice(0, 100)} is not a changed event`));
          return;
        }
        sink.deliver([parsed.data]);
      },
    );
  }

  async stop(): Promise<void> {
    const sub = this.#sub;
    const queue = this.#active;
    this.#sub = null;
    this.#active = null;
    await sub?.cancel();
    if (sub && queue && this.#queue === undefined) await this.#bus.deleteQueue(queue).catch(() => {});
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}
