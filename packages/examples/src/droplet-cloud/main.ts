/**
 * The droplet cloud: `npm start` runs it in memory, in one process, with a live summary and a
 * dashboard. `--mysql`/`--amqp` run it on MariaDB and RabbitMQ; `--role` runs one component per
 * process. See `--help`.
 */
import { consoleLogger, isCtlplaneError } from '@ctlplane/core';
import { describeBackends } from './backend.js';
import { type CloudOptions, DEMO_AGENT_SECRET, DEMO_TOKEN, parseCli, USAGE } from './cli.js';
import { startRole } from './roles.js';
import { startCloud } from './single-process.js';
import { finalReport, summaryLine } from './summary.js';
import { startTracing, type Tracing } from './tracing/setup.js';

const say = (line: string): void => void process.stdout.write(`${line}\n`);

function options(): CloudOptions {
  try {
    const o = parseCli(process.argv.slice(2));
    if (o) return o;
    say(USAGE);
    process.exit(0);
  } catch (err) {
    const message = isCtlplaneError(err) || err instanceof TypeError ? err.message : String(err);
    process.stderr.write(`droplet-cloud: ${message}\n\n${USAGE}`);
    process.exit(2);
  }
}

/** Resolves on SIGINT/SIGTERM, after `--duration`, or when `finished` resolves. */
function stopSignal(o: CloudOptions, finished?: Promise<void>): Promise<string> {
  return new Promise((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve(sig));
    if (o.duration !== undefined) setTimeout(() => resolve('duration'), o.duration * 1_000).unref();
    void finished?.then(() => resolve('finished'));
  });
}

let tracing: Tracing | null = null;

async function exitAfter(close: () => Promise<string[]>, code: number): Promise<never> {
  const force = setTimeout(() => {
    process.stderr.write('droplet-cloud: shutdown took over 15 s; exiting anyway\n');
    process.exit(code || 1);
  }, 15_000);
  force.unref();
  const errors = await close();
  // After the components: their last spans (the shutdown's) are exported too.
  await tracing?.shutdown().catch((err: Error) => errors.push(`tracing: ${err.message}`));
  for (const e of errors) process.stderr.write(`droplet-cloud: shutdown: ${e}\n`);
  process.exit(errors.length > 0 && code === 0 ? 1 : code);
}

async function runAll(o: CloudOptions): Promise<void> {
  say(`droplet-cloud: ${o.regions.length} regions x ${o.hypervisors} hypervisors; ${describeBackends(o)}`);
  const cloud = await startCloud(o, consoleLogger(o.logLevel), tracing?.ring ?? null);
  if (cloud.dashboardUrl) say(`dashboard: ${cloud.dashboardUrl}  (metrics: ${cloud.dashboardUrl}/metrics)`);
  say(`running: ${o.rate} requests/s${o.requests ? `, ${o.requests} in all` : ''}; Ctrl-C to stop`);
  const ticker = setInterval(() => void summaryLine(cloud.summary).then(say, () => {}), o.summaryMs);
  const why = await stopSignal(o, o.requests ? cloud.workload.done() : undefined);
  clearInterval(ticker);
  say(await summaryLine(cloud.summary).catch(() => 'summary unavailable'));
  say(`stopping (${why})`);
  const report = finalReport(cloud.workload, why !== 'finished');
  for (const line of report.lines) say(line);
  await exitAfter(
    async () => {
      const errors = await cloud.close();
      say('stopped cleanly');
      return errors;
    },
    report.ok ? 0 : 1,
  );
}

async function runRole(o: CloudOptions): Promise<void> {
  if (o.token === DEMO_TOKEN || o.agentSecret === DEMO_AGENT_SECRET) {
    process.stderr.write(
      'droplet-cloud: using the demo secrets; set CTLPLANE_DEMO_TOKEN and CTLPLANE_DEMO_AGENT_SECRET beyond a laptop\n',
    );
  }
  const role = await startRole(o, consoleLogger(o.logLevel), say);
  const ticker = setInterval(() => void role.summary().then(say, () => {}), o.summaryMs);
  const why = await stopSignal(o);
  clearInterval(ticker);
  say(`${o.role}: stopping (${why})`);
  await exitAfter(async () => {
    const errors = await role.close();
    say(`${o.role}: stopped cleanly`);
    return errors;
  }, 0);
}

const o = options();
try {
  tracing = await startTracing(o);
  await (o.role === 'all' ? runAll(o) : runRole(o));
} catch (err) {
  const inUse = (err as { code?: string }).code === 'EADDRINUSE';
  const hint = inUse
    ? ' (another process has the port: pick one with --dashboard-port, 0 for any free port)'
    : '';
  process.stderr.write(`droplet-cloud: failed to start: ${(err as Error).message}${hint}\n`);
  process.exit(1);
}
