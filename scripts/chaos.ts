/**
 * `npm run chaos [-- --quick] [--seed n]`: the whole system under faults. See scripts/chaos/ and
 * docs/reliability.md ("Chaos runs").
 *
 * 1. A deployment of the droplet cloud on MariaDB and RabbitMQ, one process per component:
 *    Harpoon, two schedulers, two router replicas (one reading through Harpoon and pushed over
 *    RabbitMQ, one polling MariaDB), five agents processes for 500 servers, the API.
 * 2. A stream of droplet requests through the API, retried with their request ids until accepted;
 *    a share of the booted droplets destroyed again.
 * 3. Meanwhile a seeded fault injector: SIGKILL + restart of a random process, RabbitMQ
 *    stop_app/start_app, KILL CONNECTION on Harpoon's / the router's / the fleet's MariaDB
 *    connections, agents' connections reset, an agents process or a scheduler paused (SIGSTOP)
 *    past its lease.
 * 4. After the stream, a bounded settle; then the checker reads the database and prints the
 *    verdict. Exit code 0 only when lost, double_placed, overcommitted, stuck and phantom_done
 *    are all 0 and every request was accepted.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleLogger, deadLetterQueueName, sleep } from '@ctlplane/core';
import type { RowDataPacket } from 'mysql2/promise';
import { DropletClient } from '../packages/examples/src/droplet-cloud/api-client.js';
import { parseOptions } from '../packages/examples/src/droplet-cloud/cli.js';
import { seeded } from '../packages/examples/src/droplet-cloud/random.js';
import { routerQueue } from '../packages/examples/src/droplet-cloud/routers.js';
import { check, openCount, outlivingReservations, unpublishedIds } from './chaos/checker.js';
import { ClusterFaults } from './chaos/cluster-faults.js';
import { checkReplication, ensureClusters } from './chaos/cluster-setup.js';
import { DB_CLIENTS, dbUser, openChaosDatabase } from './chaos/database.js';
import {
  AGENT_SHARDS,
  Deployment,
  HYPERVISORS_PER_REGION,
  REGIONS,
  ROUTER_REPLICAS,
  SCHEDULER_LEASE_MS,
} from './chaos/deployment.js';
import { FaultInjector } from './chaos/faults.js';
import { FeedFollower } from './chaos/feed-follower.js';
import { ChangeObserver } from './chaos/observer.js';
import { chaosOptions } from './chaos/options.js';
import { passed, writeChaosReport } from './chaos/report.js';
import { ChaosWorkload } from './chaos/workload.js';
import { cleanup } from './multi-process/cleanup.js';

const OVERCOMMIT = { cpu: 2, memory: 1 };
const say = (line: string): void => void process.stdout.write(`${line}\n`);

function preflight(cluster: boolean): void {
  const tools = [['ss', ['-V']] as const, ...(cluster ? [] : [['rabbitmqctl', ['-q', 'status']] as const])];
  for (const [cmd, args] of tools) {
    try {
      execFileSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    } catch {
      throw new Error(
        `chaos needs \`${cmd}\` working on this machine (it controls the local broker and sockets)`,
      );
    }
  }
}

async function main(): Promise<number> {
  const o = chaosOptions(process.argv.slice(2), process.env);
  preflight(o.cluster);
  if (o.cluster) await ensureClusters(say);
  const hex = randomBytes(3).toString('hex');
  const prefix = `chaos_${hex}_`;
  const dir = join(tmpdir(), `ctlplane-chaos-${hex}`);
  const exchange = `droplet-cloud.${prefix}`;
  const command = `npm run chaos --${o.cluster ? ' --cluster' : ''}${o.quick ? ' --quick' : ''} --seed ${o.seed}`;
  say(
    `chaos: seed ${o.seed}, ${o.requests.toLocaleString('en-US')} requests at ${o.rate}/s, tables ${prefix}*, logs ${dir}/logs`,
  );

  const db = await openChaosDatabase(o.mysql, prefix);
  const secret = randomBytes(24).toString('hex');
  const fleet = {
    regions: [...REGIONS],
    hypervisors: HYPERVISORS_PER_REGION,
    capacity: parseOptions({}).capacity,
  };
  const common = [
    ...[
      '--amqp',
      o.amqp.join(','),
      '--table-prefix',
      prefix,
      '--port-base',
      String(o.portBase),
      '--no-migrate',
    ],
    ...['--regions', REGIONS.join(','), '--hypervisors', String(HYPERVISORS_PER_REGION)],
    ...['--boot-ms', '300', '--fail-rate', '0.03', '--overcommit', String(OVERCOMMIT.cpu)],
    ...[
      '--router-replicas',
      String(ROUTER_REPLICAS),
      '--state-dir',
      dir,
      '--lease-ms',
      String(SCHEDULER_LEASE_MS),
    ],
    ...['--seed', String(o.seed), '--summary-ms', '15000', '--log-level', 'warn'],
  ];
  const deployment = new Deployment({
    dir,
    common,
    urls: db.urls,
    env: { CTLPLANE_DEMO_TOKEN: secret, CTLPLANE_DEMO_AGENT_SECRET: `${secret}-agents` },
    metricsPortBase: o.portBase + 100,
  });
  const workload = new ChaosWorkload(new DropletClient(`http://127.0.0.1:${o.portBase + 1}`), {
    ...{ requests: o.requests, rate: o.rate, seed: o.seed, destroyRatio: 0.3 },
  });
  const observer = new ChangeObserver({
    ...{ amqp: o.amqp, exchange, logger: consoleLogger('error') },
    onBooted: (id) => workload.booted(id),
  });
  const routerPorts = REGIONS.flatMap((_, i) =>
    Array.from({ length: ROUTER_REPLICAS }, (_, r) => o.portBase + 10 + i + 50 * r),
  );
  const feed = new FeedFollower(o.mysql.join(','), prefix, consoleLogger('error'));
  const injector = new FaultInjector({
    targets: { deployment, db, routerPorts, ...(o.cluster ? { cluster: new ClusterFaults('chaos_') } : {}) },
    random: seeded(o.seed),
    everyMs: o.faultEveryMs,
    say,
  });
  let code = 1;
  try {
    await observer.start();
    say('starting the deployment …');
    await deployment.start();
    say(`deployment ready: ${deployment.names.join(', ')}`);
    feed.start();

    const t0 = Date.now();
    const stopFaults = new AbortController();
    const faults = injector.run(stopFaults.signal);
    const progress = setInterval(() => {
      const w = workload.counts;
      void openCount(db.admin, prefix).then(
        (open) =>
          say(
            `  t=${((Date.now() - t0) / 1_000).toFixed(0)}s accepted ${w.accepted.toLocaleString('en-US')}/${o.requests.toLocaleString('en-US')}, retried ${w.retries}, destroys ${w.destroys}, open events ${open}, faults ${injector.log.length}`,
          ),
        () => {},
      );
    }, 10_000);
    await workload.issue();
    const load = loadavg();
    stopFaults.abort();
    await faults;
    await injector.restartCrashed();
    const durationS = (Date.now() - t0) / 1_000;
    say(
      `stream issued and faults stopped after ${durationS.toFixed(0)} s; settling (at most ${o.settleS} s) …`,
    );

    const settleStart = Date.now();
    const deadline = settleStart + o.settleS * 1_000;
    const drained = workload.drain(deadline);
    for (;;) {
      await injector.restartCrashed();
      const open = await openCount(db.admin, prefix);
      const unpublished = (await unpublishedIds(db.admin, prefix, observer)).length;
      const requestsDone = await Promise.race([drained.then(() => true), sleep(0).then(() => false)]);
      // The reconciler releases from a queue of its own: its last releases may lag the observer's.
      const outliving = open === 0 ? await outlivingReservations(db.admin, prefix) : 1;
      if ((open === 0 && unpublished === 0 && outliving === 0 && requestsDone) || Date.now() > deadline)
        break;
      await sleep(2_000);
    }
    await drained;
    clearInterval(progress);
    const settleS = (Date.now() - settleStart) / 1_000;

    const [[top]] = await db.admin.query<RowDataPacket[]>(
      `SELECT COALESCE(MAX(seq), 0) AS h FROM \`${prefix}events\``,
    );
    await feed.catchUp(Number(top!.h), Date.now() + 60_000);
    const gaps = await feed.gaps(db.admin, prefix);
    const replication = o.cluster ? await checkReplication(`droplet-cloud.${prefix}`) : null;
    const result = await check({
      ...{ admin: db.admin, prefix, stateDir: dir, shards: AGENT_SHARDS, fleet, overcommit: OVERCOMMIT },
      ...{ workload, observer },
    });
    const run = {
      ...{ quick: o.quick, seed: o.seed, command, requests: o.requests },
      ...{ accepted: workload.counts.accepted, abandoned: workload.counts.abandoned },
      ...{ retries: workload.counts.retries, destroys: workload.counts.destroys },
      ...{ durationS, settleS, settleLimitS: o.settleS, faults: injector.log, crashes: deployment.crashes() },
      ...{ observed: { messages: observer.messages, repeats: observer.repeats }, check: result },
      ...{ cluster: o.cluster, feed: { seen: feed.seen.size, errors: feed.errors, gaps }, replication, load },
    };
    say('');
    for (const line of writeChaosReport(run)) say(line);
    if (workload.refusals.size > 0) {
      say(
        `refusals seen by the workload: ${[...workload.refusals].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
      );
    }
    say(`\nverdict: ${passed(run) ? 'PASS' : 'FAIL'} (examples: ${JSON.stringify(result.examples)})`);
    code = passed(run) ? 0 : 1;
  } finally {
    say('stopping the deployment …');
    for (const line of await deployment.stop()) say(`  ${line}`);
    await observer.close().catch(() => {});
    if (!o.keep) {
      await cleanup({
        ...{ mysql: o.mysql[0]!, amqp: o.amqp[0]!, tablePrefix: prefix, regions: REGIONS.join(',') },
        queues: [
          ...REGIONS.map((r) => routerQueue(prefix, r, 1)),
          `${exchange}.chaos-observer`,
          // The bus declares a dead-letter queue next to the observer's; it outlived every run.
          deadLetterQueueName(`${exchange}.chaos-observer`),
        ],
      }).catch((err: unknown) => say(`cleanup failed: ${(err as Error).message}`));
      for (const client of DB_CLIENTS) await db.admin.query('DROP USER IF EXISTS ?@?', [dbUser(client), '%']);
      rmSync(dir, { recursive: true, force: true });
    } else say(`kept: tables ${prefix}*, exchange ${exchange}, logs and ledgers in ${dir}`);
    await db.close();
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
