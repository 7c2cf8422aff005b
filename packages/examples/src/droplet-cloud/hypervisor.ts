/**
 * A simulated hypervisor: boots droplets after a realistic delay (sometimes failing), destroys
 * them, and reports load metrics with every heartbeat. It runs behind an `Agent`, which never
 * touches the database.
 */
import type { AgentHandlers, AgentMetrics } from '@ctlplane/core';
import { sleep } from '@ctlplane/core';
import type { HypervisorSpec } from './fleet-spec.js';
import type { HypervisorLedger, RunningDroplet } from './ledger.js';
import { jittered, pick, seeded } from './random.js';
import { type DropletTypes, SIZES } from './types.js';

const FAILURES = [
  'image pull failed: registry timed out',
  'disk provisioning failed: volume busy',
  'no free IP address left in the subnet',
  'boot timed out: guest kernel panic',
] as const;

/** How a simulated hypervisor behaves. */
export interface HypervisorBehaviour {
  /** Mean boot time in ms. */
  readonly bootMs: number;
  /** Fraction of boots that fail. */
  readonly failRate: number;
  /** Seed of its random source. */
  readonly seed: number;
  /** Where its droplets are kept across restarts of the agent (`--state-dir`). */
  readonly ledger?: HypervisorLedger | undefined;
}

/** One simulated hypervisor. */
export class SimulatedHypervisor {
  readonly spec: HypervisorSpec;
  readonly #b: HypervisorBehaviour;
  readonly #random: () => number;
  readonly #droplets: Map<number, RunningDroplet>;
  #booting = 0;
  #noise = 0.5;

  constructor(spec: HypervisorSpec, behaviour: HypervisorBehaviour) {
    this.spec = spec;
    this.#b = behaviour;
    this.#random = seeded(behaviour.seed);
    this.#droplets = behaviour.ledger?.droplets(spec.id) ?? new Map();
  }

  /** Droplets running here. */
  get droplets(): number {
    return this.#droplets.size;
  }

  /** The agent's handlers, one per event type. */
  readonly handlers: AgentHandlers<DropletTypes> = {
    'droplet.create': async (event, ctx) => {
      const held = this.#droplets.get(event.id);
      if (held) return { ip: held.ip, hypervisor: this.spec.id }; // redelivered after it booted
      this.#booting++;
      try {
        await sleep(jittered(this.#b.bootMs, this.#random), ctx.signal);
        if (ctx.signal.aborted) throw new Error('boot aborted: the request was cancelled');
        if (this.#random() < this.#b.failRate) throw new Error(pick(FAILURES, this.#random));
      } finally {
        this.#booting--;
      }
      const ip = `10.${event.id >>> 16}.${(event.id >>> 8) & 255}.${event.id & 255}`;
      const size = SIZES[event.payload.size];
      this.#droplets.set(event.id, { ...size, ip });
      this.#b.ledger?.write({
        k: 'boot',
        e: event.id,
        s: this.spec.id,
        cpu: size.cpu,
        mem: size.memory,
        ip,
        at: Date.now(),
      });
      return { ip, hypervisor: this.spec.id };
    },
    'droplet.destroy': async (event, ctx) => {
      await sleep(jittered(this.#b.bootMs / 4, this.#random), ctx.signal);
      if (this.#droplets.delete(event.payload.dropletId)) {
        this.#b.ledger?.write({ k: 'gone', e: event.payload.dropletId, s: this.spec.id, at: Date.now() });
      }
      return { destroyed: event.payload.dropletId };
    },
  };

  /** Metrics sent with every heartbeat (and used by the scheduler's live-load strategy). */
  metrics(): AgentMetrics {
    let cpu = 0;
    let memory = 0;
    for (const d of this.#droplets.values()) {
      cpu += d.cpu;
      memory += d.memory;
    }
    // Guests use part of their vCPUs, drifting slowly; booting guests cost a little extra.
    this.#noise = Math.min(0.9, Math.max(0.2, this.#noise + (this.#random() - 0.5) * 0.1));
    return {
      node_load1: Math.round((cpu * this.#noise + this.#booting * 0.5) * 100) / 100,
      cpu_allocated: cpu,
      memory_allocated_mb: memory,
      droplets: this.#droplets.size,
    };
  }
}
