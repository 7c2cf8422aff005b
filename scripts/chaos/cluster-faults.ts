/**
 * The faults of the cluster mode: a Galera node or a RabbitMQ node SIGKILLed and, after a pause,
 * started again. Only one node is ever down (the injector runs one fault at a time and each waits
 * until its node is back), so Galera keeps a primary component of 2 and RabbitMQ a majority; a node
 * is killed only when its cluster is whole. The first Galera kill of a run takes the writer (the
 * node the deployment's connections are on), later ones the writer or another node at random.
 */
import { sleep } from '@ctlplane/core';
import { pick } from '../../packages/examples/src/droplet-cloud/random.js';
import { GALERA_NODES } from '../cluster/galera.js';
import {
  crashGaleraNode,
  galeraHealthy,
  galeraWriterByConnections,
  galeraWriterByUptime,
  rejoinGaleraNode,
} from '../cluster/galera-node.js';
import { waitFor } from '../cluster/process.js';
import { RABBIT_NODES, rabbitNode } from '../cluster/rabbitmq.js';
import { killRabbitNode, rabbitHealthy, restartRabbitNode } from '../cluster/rabbitmq-node.js';

/** How long a killed node may take to be back (Synced / running in a cluster of 3). */
const REJOIN_MS = 240_000;
/** How long a fault waits for its cluster to be whole before it gives up (reported as failed). */
const WHOLE_MS = 120_000;

const between = (random: () => number, lo: number, hi: number): number =>
  Math.round(lo + random() * (hi - lo));
const s1 = (ms: number): string => `${(ms / 1_000).toFixed(1)} s`;

/** Kills and restarts cluster nodes; remembers whether a writer was hit yet. */
export class ClusterFaults {
  #writerKilled = false;
  readonly #userPrefix: string;

  /** @param userPrefix - the deployment's MariaDB users start with it (finds the writer) */
  constructor(userPrefix: string) {
    this.#userPrefix = userPrefix;
  }

  /** A Galera writer was killed and came back. */
  get writerKilled(): boolean {
    return this.#writerKilled;
  }

  /** SIGKILL a Galera node (the writer the first time), restart it, wait until Synced. */
  async galera(random: () => number): Promise<[string, string]> {
    await waitFor('galera: 3 nodes Synced before a kill', WHOLE_MS, async () =>
      (await galeraHealthy()) ? true : undefined,
    );
    const byConns = await galeraWriterByConnections(this.#userPrefix);
    const writer = byConns?.node ?? (await galeraWriterByUptime());
    const killWriter = !this.#writerKilled || random() < 0.5;
    const n =
      killWriter && writer
        ? writer
        : pick(
            GALERA_NODES.filter((m) => m !== writer),
            random,
          );
    const role = n === writer ? 'writer' : 'not the writer';
    const conns = byConns
      ? `connections per node ${Object.entries(byConns.connections)
          .map(([m, c]) => `${m}:${c}`)
          .join(' ')}`
      : 'no client connections seen; writer by uptime';
    const downMs = between(random, 2_000, 8_000);
    await crashGaleraNode(n);
    await sleep(downMs);
    const t0 = Date.now();
    const rejoin = await rejoinGaleraNode(n, REJOIN_MS);
    if (n === writer) this.#writerKilled = true;
    return [
      `galera-${n} (${role})`,
      `SIGKILL (${conns}), ${downMs} ms down, restarted, Synced by ${rejoin.transfer} after ${s1(Date.now() - t0)}`,
    ];
  }

  /** SIGKILL a RabbitMQ node's VM, restart it, wait until it runs in a cluster of 3 again. */
  async rabbit(random: () => number): Promise<[string, string]> {
    await waitFor('rabbitmq: 3 nodes running before a kill', WHOLE_MS, async () =>
      (await rabbitHealthy()) ? true : undefined,
    );
    const n = pick(RABBIT_NODES, random);
    const downMs = between(random, 1_000, 6_000);
    await killRabbitNode(n);
    await sleep(downMs);
    const t0 = Date.now();
    await restartRabbitNode(n, REJOIN_MS);
    return [
      rabbitNode(n),
      `SIGKILL, ${downMs} ms down, restarted, back in the cluster after ${s1(Date.now() - t0)}`,
    ];
  }
}
