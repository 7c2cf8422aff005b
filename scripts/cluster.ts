/**
 * `npm run cluster -- up|down|status`: a 3-node MariaDB Galera cluster and a 3-node RabbitMQ
 * cluster on loopback, beside (never instead of) the machine's single MariaDB and RabbitMQ. See
 * docs/operations.md ("Trying HA locally").
 *
 * - `up` starts both from empty data directories under `CTLPLANE_CLUSTER_DIR`
 *   (/tmp/ctlplane-cluster) and returns once every Galera node is Synced in a cluster of 3 and the
 *   RabbitMQ cluster has 3 running nodes; on failure it stops what it started and exits 1.
 * - `status` prints both, exit 0 only when both are healthy.
 * - `down` stops what `up` started (pid files); idempotent.
 * - `up galera` / `status galera` / `down galera`: the Galera cluster only (the galera test project needs no
 *   RabbitMQ cluster).
 */
import {
  GALERA_NODES,
  galeraDown,
  galeraRunning,
  galeraStatus,
  galeraUp,
  galeraUrl,
} from './cluster/galera.js';
import { say } from './cluster/process.js';
import {
  RABBIT_NODES,
  rabbitDown,
  rabbitRunning,
  rabbitStatus,
  rabbitUp,
  rabbitUrl,
} from './cluster/rabbitmq.js';

/** `galera` as the second argument: the Galera cluster only (what `npm run test:galera` needs). */
const galeraOnly = process.argv[3] === 'galera';

async function status(): Promise<boolean> {
  const galera = await galeraStatus();
  if (galeraOnly) return galera;
  const rabbit = await rabbitStatus();
  return galera && rabbit;
}

async function down(): Promise<void> {
  if (!galeraOnly) await rabbitDown();
  await galeraDown();
}

async function up(): Promise<void> {
  if (galeraRunning() || (!galeraOnly && rabbitRunning())) {
    say('a cluster is already running (run `npm run cluster -- down` first for a fresh one):');
    if (!(await status())) throw new Error('the running cluster is not healthy');
    return;
  }
  const started = Date.now();
  try {
    await galeraUp();
    if (!galeraOnly) await rabbitUp();
  } catch (e) {
    say('starting failed; stopping what was started');
    await down();
    throw e;
  }
  say(
    `\n${galeraOnly ? 'Galera' : 'both clusters'} healthy after ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  await status();
  say(
    `\nCTLPLANE_MYSQL_URL=${galeraUrl(1)}   (other nodes: ${GALERA_NODES.slice(1).map(galeraUrl).join(', ')})`,
  );
  say(`CTLPLANE_GALERA_URLS=${GALERA_NODES.map(galeraUrl).join(',')}   (npm run test:galera; any --mysql)`);
  say(
    `CTLPLANE_AMQP_URL=${rabbitUrl(1)}   (other nodes: ${RABBIT_NODES.slice(1).map(rabbitUrl).join(', ')})`,
  );
}

const command = process.argv[2];
try {
  if (command === 'up') await up();
  else if (command === 'down') await down();
  else if (command === 'status') process.exitCode = (await status()) ? 0 : 1;
  else {
    say('usage: npm run cluster -- up|down|status [galera]');
    process.exitCode = 2;
  }
} catch (e) {
  process.stderr.write(`cluster ${command}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
