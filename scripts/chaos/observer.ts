/**
 * A bystander on the bus: follows every change Harpoon's relay publishes (its own durable queue,
 * bound to the deployment's exchange) and remembers, per event, every server it was seen on and
 * the newest version seen. It tells the workload which droplets booted.
 */
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { ALL_EVENTS_PATTERN, type Logger, type StoredEvent, type Subscription } from '@ctlplane/core';
import { followChanges } from '../../packages/examples/src/droplet-cloud/changes.js';

/** What the observer saw. */
export class ChangeObserver {
  /** Servers each event was seen on. */
  readonly servers = new Map<number, Set<string>>();
  /** Newest version seen of each event. */
  readonly versions = new Map<number, number>();
  /** Messages received, and those that repeated a version already seen. */
  messages = 0;
  repeats = 0;
  readonly #bus: AmqpBus;
  readonly #queue: string;
  readonly #onBooted: (id: number) => void;
  #sub: Subscription | null = null;

  constructor(o: {
    amqp: readonly string[];
    exchange: string;
    logger: Logger;
    onBooted: (id: number) => void;
  }) {
    this.#queue = `${o.exchange}.chaos-observer`;
    this.#bus = new AmqpBus({
      urls: o.amqp,
      topology: { exchange: o.exchange, queues: [{ name: this.#queue, bindings: [ALL_EVENTS_PATTERN] }] },
      connectionName: 'chaos:observer',
      logger: o.logger,
    });
    this.#onBooted = o.onBooted;
  }

  /** The observer's queue (deleted at cleanup). */
  get queue(): string {
    return this.#queue;
  }

  async start(): Promise<void> {
    await this.#bus.ready();
    this.#sub = await followChanges(this.#bus, this.#queue, (e) => this.#see(e));
  }

  async close(): Promise<void> {
    await this.#sub?.cancel().catch(() => {});
    await this.#bus.close();
  }

  #see(e: StoredEvent): void {
    this.messages++;
    const known = this.versions.get(e.id) ?? 0;
    if (e.version <= known) this.repeats++;
    else this.versions.set(e.id, e.version);
    if (e.serverId && ['placed', 'running', 'done'].includes(e.status)) {
      let set = this.servers.get(e.id);
      if (!set) {
        set = new Set();
        this.servers.set(e.id, set);
      }
      set.add(e.serverId);
    }
    if (e.type === 'droplet.create' && e.status === 'done') this.#onBooted(e.id);
  }
}
