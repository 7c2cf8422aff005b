/**
 * Start the droplet cloud as a multi-process deployment on one machine — harpoon, scheduler,
 * router, agents and api, each its own process, sharing MariaDB and RabbitMQ — drive a bounded
 * workload through the API over HTTP, check that every droplet ended done or failed with a
 * reason, then stop every process and clean up.
 *
 *   node --import tsx scripts/multi-process.ts --mysql mysql://root@127.0.0.1:3306/test \
 *     --amqp amqp://guest:guest@127.0.0.1:5672 --requests 200
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parsePrometheusText } from '@ctlplane/core';
import { z } from 'zod';
import { DropletClient } from '../packages/examples/src/droplet-cloud/api-client.js';
import { finalReport } from '../packages/examples/src/droplet-cloud/summary.js';
import { Workload } from '../packages/examples/src/droplet-cloud/workload.js';
import { type Child, startRole } from './multi-process/children.js';
import { cleanup } from './multi-process/cleanup.js';

const USAGE = `Usage: node --import tsx scripts/multi-process.ts --mysql <url> --amqp <url> [options]
  --requests <n>        droplets to create (default 200)
  --rate <n>            creates per second (default 40)
  --regions <a,b>       regions (default nyc1,sfo3,ams3)
  --hypervisors <n>     per region (default 10)
  --boot-ms <n>         mean boot time (default 800)
  --fail-rate <r>       fraction of boots that fail (default 0.05)
  --port-base <n>       first port (default 7300; uses n .. n+40)
  --table-prefix <p>    MySQL tables and AMQP names (default a fresh mp_<random>_)
  --timeout <s>         give up after this long (default 300)
  --keep                keep tables and queues afterwards
  --trace-file <path>   trace every process (--trace) and append their spans to <path>, one JSON line each
`;

const schema = z
  .object({
    mysql: z.string().startsWith('mysql://'),
    amqp: z.string().regex(/^amqps?:\/\//),
    requests: z.coerce.number().int().min(1).max(100_000).default(200),
    rate: z.coerce.number().positive().max(5_000).default(40),
    regions: z.string().default('nyc1,sfo3,ams3'),
    hypervisors: z.coerce.number().int().min(1).max(500).default(10),
    bootMs: z.coerce.number().int().min(0).default(800),
    failRate: z.coerce.number().min(0).max(1).default(0.05),
    portBase: z.coerce.number().int().min(1_024).max(65_000).default(7_300),
    tablePrefix: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,30}$/)
      .default(`mp_${randomBytes(3).toString('hex')}_`),
    timeout: z.coerce.number().positive().default(300),
    keep: z.boolean().default(false),
    traceFile: z.string().min(1).optional(),
  })
  .strict();

function options(): z.output<typeof schema> {
  try {
    const { values } = parseArgs({
      strict: true,
      options: {
        ...Object.fromEntries(
          [
            'mysql',
            'amqp',
            'requests',
            'rate',
            'regions',
            'hypervisors',
            'boot-ms',
            'fail-rate',
            'port-base',
            'table-prefix',
            'timeout',
            'trace-file',
          ].map((f) => [f, { type: 'string' as const }]),
        ),
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const camel = Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
    );
    const parsed = schema.safeParse(camel);
    if (parsed.success) return parsed.data;
    throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  } catch (err) {
    process.stderr.write(`multi-process: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function scrape(children: readonly Child[]): Promise<void> {
  const db: string[] = [];
  let agents = 0;
  for (const c of children) {
    const text = await fetch(c.metricsUrl, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
    const { values } = parsePrometheusText(text);
    for (const [series, v] of Object.entries(values)) {
      if (series.startsWith('ctlplane_db_connections{')) db.push(`${c.role} ${v}`);
      if (series.startsWith('ctlplane_router_connections{')) agents += v;
    }
  }
  say(`connections: ${agents} agents -> routers; database connections by process: ${db.join(', ')}`);
}

async function main(): Promise<number> {
  const o = options();
  // Secrets go to the children in their environment, not on their command lines (visible in ps).
  const secret = randomBytes(24).toString('hex');
  const env = { CTLPLANE_DEMO_TOKEN: secret, CTLPLANE_DEMO_AGENT_SECRET: `${secret}-agents` };
  const common = [
    ...[
      '--mysql',
      o.mysql,
      '--amqp',
      o.amqp,
      '--table-prefix',
      o.tablePrefix,
      '--port-base',
      String(o.portBase),
    ],
    ...['--regions', o.regions, '--hypervisors', String(o.hypervisors), '--boot-ms', String(o.bootMs)],
    ...['--fail-rate', String(o.failRate)],
    ...['--summary-ms', '5000', '--log-level', 'warn'],
    ...(o.traceFile ? ['--trace', '--trace-file', o.traceFile] : []),
  ];
  const children: Child[] = [];
  const deadline = Date.now() + o.timeout * 1_000;
  let ok = false;
  try {
    say(`multi-process: tables ${o.tablePrefix}*, ports ${o.portBase}..${o.portBase + 40}`);
    children.push(await startRole('harpoon', common, env, o.portBase + 30, say));
    const middle = await Promise.all([
      startRole('scheduler', common, env, o.portBase + 31, say),
      startRole('router', common, env, o.portBase + 32, say),
    ]);
    children.push(...middle);
    children.push(await startRole('agents', common, env, o.portBase + 33, say));
    children.push(await startRole('api', common, env, o.portBase + 34, say));

    const regions = o.regions.split(',');
    const api = new DropletClient(`http://127.0.0.1:${o.portBase + 1}`);
    const workload = new Workload({
      ...{
        api,
        regions,
        rate: o.rate,
        total: o.requests,
        destroyRatio: 0.2,
        maxBootedCpu: Number.POSITIVE_INFINITY,
      },
      seed: 7,
    });
    say(`workload: ${o.requests} droplets at ${o.rate}/s through ${`http://127.0.0.1:${o.portBase + 1}`}`);
    workload.start();
    const progress = setInterval(() => {
      const w = workload.stats;
      say(
        `workload: created ${w.created}, booted ${w.booted}, failed ${w.failed}, destroyed ${w.destroyed}, in flight ${w.outstanding}`,
      );
    }, 3_000);
    const finished = await Promise.race([
      workload.done().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, deadline - Date.now())).unref()),
    ]);
    clearInterval(progress);
    await workload.stop();
    await scrape(children).catch((err: Error) => say(`metrics: could not scrape (${err.message})`));
    const report = finalReport(workload);
    for (const line of report.lines) say(line);
    ok = finished && report.ok;
    say(
      ok
        ? 'every droplet is done or failed with a reason'
        : `NOT FINISHED: ${finished ? 'some failures have no reason' : `timed out after ${o.timeout}s`}`,
    );
  } catch (err) {
    say(`multi-process: ${(err as Error).message}`);
  } finally {
    const codes: (number | null)[] = [];
    for (const c of [...children].reverse()) codes.push(await c.stop());
    const bad = children.filter((_, i) => codes[children.length - 1 - i] !== 0).map((c) => c.role);
    if (bad.length > 0) {
      say(`processes that did not exit cleanly: ${bad.join(', ')}`);
      ok = false;
    } else if (children.length === 5) say('every process exited cleanly');
    if (!o.keep) await cleanup(o).catch((err: Error) => say(`cleanup failed: ${err.message}`));
  }
  return ok ? 0 : 1;
}

process.exit(await main());
