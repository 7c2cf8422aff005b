/**
 * The cluster mode's services: the local Galera and RabbitMQ clusters of `npm run cluster`, made
 * whole before the run (started when nothing runs, a missing node restarted when the others run),
 * and the check that every queue of the deployment is a quorum queue with a replica on each node.
 */
import { GALERA_NODES, galeraDown, galeraRunning, galeraUp } from '../cluster/galera.js';
import { galeraHealthy, galeraPid, rejoinGaleraNode } from '../cluster/galera-node.js';
import { waitFor } from '../cluster/process.js';
import { RABBIT_NODES, rabbitDown, rabbitNode, rabbitRunning, rabbitUp } from '../cluster/rabbitmq.js';
import { queueReplicas, rabbitHealthy, rabbitPid, restartRabbitNode } from '../cluster/rabbitmq-node.js';

/** Bound on making a cluster whole (a node's restart, or the other user's node coming back). */
const WHOLE_MS = 240_000;

/** How long a running but unhealthy cluster is given to heal by itself (another user's restart). */
const HEAL_MS = 90_000;

/** Resolves true once `healthy` says so, false after `ms`. */
async function healsWithin(ms: number, healthy: () => Promise<boolean>): Promise<boolean> {
  return waitFor('healthy', ms, async () => ((await healthy()) ? true : undefined)).catch(() => false);
}

/**
 * Make both clusters healthy: start them when none of their nodes runs; when some run, give them
 * {@link HEAL_MS} (the clusters are shared: a node may be restarting on someone else's behalf),
 * then restart the nodes still down.
 */
export async function ensureClusters(say: (line: string) => void): Promise<void> {
  if (galeraRunning() && !(await galeraHealthy())) {
    say('galera cluster running but not whole: waiting for it …');
    await healsWithin(HEAL_MS, galeraHealthy);
  }
  if (rabbitRunning() && !(await rabbitHealthy())) {
    say('rabbitmq cluster running but not whole: waiting for it …');
    await healsWithin(HEAL_MS, rabbitHealthy);
  }
  if (!(await galeraHealthy())) {
    if (!galeraRunning()) {
      say('galera cluster not running: starting it (npm run cluster -- up) …');
      await galeraUp().catch(async (err: unknown) => {
        await galeraDown();
        throw err;
      });
    } else {
      for (const n of GALERA_NODES.filter((m) => galeraPid(m) === undefined)) {
        say(`galera-${n} is down: restarting it …`);
        await rejoinGaleraNode(n, WHOLE_MS);
      }
    }
    await waitFor('galera: 3 nodes Synced', WHOLE_MS, async () =>
      (await galeraHealthy()) ? true : undefined,
    );
  }
  if (!(await rabbitHealthy())) {
    if (!rabbitRunning()) {
      say('rabbitmq cluster not running: starting it …');
      await rabbitUp().catch(async (err: unknown) => {
        await rabbitDown();
        throw err;
      });
    } else {
      for (const n of RABBIT_NODES.filter((m) => rabbitPid(m) === undefined)) {
        say(`${rabbitNode(n)} is down: restarting it …`);
        await restartRabbitNode(n, WHOLE_MS);
      }
    }
    await waitFor('rabbitmq: 3 nodes running', WHOLE_MS, async () =>
      (await rabbitHealthy()) ? true : undefined,
    );
  }
}

/** What the queues of a deployment look like on the cluster. */
export interface ReplicationCheck {
  readonly queues: number;
  /** Queues that are not quorum queues with a member on each of the 3 nodes (name: why). */
  readonly notReplicated: readonly string[];
  /** Quorum queues with fewer than 3 members online when listed. */
  readonly notOnline: readonly string[];
}

/** List the deployment's queues (`prefix`, e.g. `droplet-cloud.chaos_ab12_`) through any node. */
export async function checkReplication(prefix: string): Promise<ReplicationCheck> {
  let lastError: unknown;
  for (const n of RABBIT_NODES) {
    try {
      const qs = await queueReplicas(n, prefix);
      return {
        queues: qs.length,
        notReplicated: qs
          .filter((q) => q.type !== 'quorum' || q.members.length < RABBIT_NODES.length)
          .map((q) => `${q.name}: ${q.type}, members ${q.members.join(' ') || 'none'}`),
        notOnline: qs
          .filter((q) => q.type === 'quorum' && q.online.length < RABBIT_NODES.length)
          .map((q) => `${q.name}: online ${q.online.join(' ')}`),
      };
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`no RabbitMQ node listed the queues: ${(lastError as Error).message}`);
}
