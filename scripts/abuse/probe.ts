/**
 * The relay-stall probe: a bus subscriber on a region of its own, and a well-behaved create in that
 * region after each attack. A change not seen on the bus within the bound is a relay stall.
 */
import { randomBytes } from 'node:crypto';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { type HarpoonClient, regionPattern, sleep, wireEventSchema } from '@ctlplane/core';
import { type AbuseSchemas, PROBE_REGION } from './types.js';

/** The probe, subscribed. */
export class RelayProbe {
  readonly #bus: AmqpBus;
  readonly #queue: string;
  readonly #seen = new Set<number>();
  readonly #client: HarpoonClient<AbuseSchemas>;

  private constructor(bus: AmqpBus, queue: string, client: HarpoonClient<AbuseSchemas>) {
    this.#bus = bus;
    this.#queue = queue;
    this.#client = client;
  }

  static async start(
    amqp: string,
    exchange: string,
    client: HarpoonClient<AbuseSchemas>,
  ): Promise<RelayProbe> {
    const queue = `${exchange}.probe.${randomBytes(3).toString('hex')}`;
    const bus = new AmqpBus({
      urls: amqp,
      topology: {
        exchange,
        queues: [{ name: queue, bindings: [regionPattern(PROBE_REGION)], expiresMs: 60_000 }],
      },
      connectionName: 'ctlplane-abuse-probe',
    });
    const probe = new RelayProbe(bus, queue, client);
    await bus.subscribe({ queue, prefetch: 100 }, (d) => {
      probe.#seen.add(wireEventSchema.parse(d.message.body).id);
    });
    return probe;
  }

  /** Create a probe event; ms until it was seen on the bus, or null past `boundMs` (a stall). */
  async check(boundMs: number): Promise<number | null> {
    const t0 = Date.now();
    let id: number;
    try {
      id = (await this.#client.create({ type: 'abuse.job', payload: { n: 0 }, region: PROBE_REGION })).id;
    } catch {
      return null;
    }
    while (Date.now() - t0 < boundMs) {
      if (this.#seen.has(id)) return Date.now() - t0;
      await sleep(20);
    }
    return null;
  }

  async close(): Promise<void> {
    await this.#bus.deleteQueue(this.#queue).catch(() => {});
    await this.#bus.close();
  }
}
