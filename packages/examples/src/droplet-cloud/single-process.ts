/**
 * The whole droplet cloud in one process: Harpoon owns the store, the scheduler places, a router
 * per region serves the simulated hypervisors' agents, the workload drives the API, and the
 * dashboard shows it all.
 */
import { CtlplaneMetrics } from '@ctlplane/adapters/prometheus';
import { AgentKeyring, consoleLogger, Harpoon, InProcessTransport, type Logger } from '@ctlplane/core';
import { startAgents } from './agents.js';
import { DropletService } from './api.js';
import { describeBackends, openBus, openEvents, openFleet } from './backend.js';
import { followChanges } from './changes.js';
import type { CloudOptions } from './cli.js';
import { Explainer } from './dashboard/explainer.js';
import { startDashboard } from './dashboard/start.js';
import { fleetSpec, totalCpu } from './fleet-spec.js';
import { Shutdown } from './lifecycle.js';
import { dashboardQueue, dashboardQueues, reconcileQueue, reconcileQueues, routerQueues } from './queues.js';
import { Reconciler } from './reconciler.js';
import { busInput, startRouters } from './routers.js';
import { startScheduler } from './scheduler.js';
import { LatencyWindow, type SummarySources } from './summary.js';
import { StatusTally } from './tally.js';
import type { SpanRing } from './tracing/exporters.js';
import { Workload } from './workload.js';

/** A running cloud. */
export interface Cloud {
  /** The dashboard (and `/metrics`, `/api`), or null with `--no-dashboard`. */
  readonly dashboardUrl: string | null;
  readonly workload: Workload;
  readonly metrics: CtlplaneMetrics;
  readonly summary: SummarySources;
  /** Stop everything, in order; resolves with the errors of steps that failed. */
  close(): Promise<string[]>;
}

/**
 * Start every component in this process. `spans`: the spans kept in memory when the SDK is
 * registered (`--trace`), for the dashboard's trace waterfall.
 */
export async function startCloud(
  o: CloudOptions,
  logger: Logger = consoleLogger(o.logLevel),
  spans: SpanRing | null = null,
): Promise<Cloud> {
  const log = logger.child('droplet-cloud');
  const shutdown = new Shutdown();
  try {
    const spec = fleetSpec(o);
    const events = await openEvents(o, log);
    shutdown.add('store', () => events.close());
    const fleet = await openFleet(o, log, events.sharedPool);
    shutdown.add('fleet', () => fleet.close());
    const p = o.tablePrefix;
    const queues = [...routerQueues(p, o.regions), ...reconcileQueues(p), ...dashboardQueues(p)];
    const bus = await openBus(o, log, queues, 'droplet-cloud');
    shutdown.add('bus', () => bus.close());

    const harpoon = new Harpoon({
      store: events.store,
      bus,
      cursors: events.cursors,
      relay: { name: `droplet-cloud.${p}` },
      prune: { retentionMs: 30 * 60_000 },
      logger: log,
    }).start();
    shutdown.add('harpoon', () => harpoon.close());

    const { scheduler, metrics: push } = await startScheduler(o, {
      store: events.store,
      fleet: fleet.fleet,
      spec,
      logger: log,
    });
    shutdown.add('scheduler', () => scheduler.stop());
    const reconciler = new Reconciler(fleet.fleet, log);
    await reconciler.start(bus, reconcileQueue(p));
    shutdown.add('reconciler', () => reconciler.stop());
    const tally = new StatusTally();
    const tallySub = await followChanges(bus, dashboardQueue(p), (e) => tally.apply(e));
    shutdown.add('tally', () => tallySub.cancel());

    const keyring = new AgentKeyring({ keys: [{ kid: 'demo', secret: o.agentSecret }] });
    const transport = new InProcessTransport();
    const routers = await startRouters({
      ...{ regions: o.regions, store: harpoon, input: busInput(bus, p), keyring, logger: log },
      onMetrics: () => (serverId, values, at) => push.report(serverId, values, at),
      listenOn: (region) => transport.server(`router-${region}`),
    });
    shutdown.add('routers', () => Promise.all(routers.map((r) => r.close())));
    const agents = await startAgents(o, {
      ...{ spec, keyring, connector: transport, logger: log },
      routerUrls: (region) => [`inproc://router-${region}`],
    });
    shutdown.add('agents', () => Promise.all(agents.map((a) => a.agent.stop())));

    const metrics = new CtlplaneMetrics();
    metrics.observeStore(events.store);
    metrics.observeHarpoon(harpoon);
    metrics.observeScheduler(scheduler);
    metrics.observeBus(bus);
    for (const r of routers) metrics.observeRouter(r);
    metrics.trackConnections('harpoon', () => events.connections.count());
    metrics.trackConnections('fleet', () => fleet.connections.count());
    metrics.trackConnections('agents', () => 0);
    shutdown.add('metrics', () => metrics.close());

    const service = new DropletService(harpoon, o.regions);
    const explainer = new Explainer(scheduler);
    shutdown.add('explainer', () => explainer.stop());
    const workload = new Workload({
      ...{
        api: o.dashboard ? explainer.wrap(service, false) : service,
        regions: o.regions,
        rate: o.rate,
        total: o.requests,
        destroyRatio: o.destroyRatio,
        seed: o.seed,
      },
      maxBootedCpu: o.targetUtil * totalCpu(spec) * o.overcommit,
    });
    const db = [events.connections, fleet.connections];
    const summary: SummarySources = {
      ...{ started: Date.now(), workload, tally, latency: new LatencyWindow(scheduler), routers, db },
      ...{ fleet: fleet.fleet, overcommit: o.overcommit, regions: o.regions },
    };
    let dashboardUrl: string | null = null;
    if (o.dashboard) {
      const dashboard = await startDashboard(o, {
        ...{
          service,
          explainer,
          fleet: fleet.fleet,
          routers,
          db,
          tally,
          workload,
          metrics,
        },
        backends: describeBackends(o),
        spans,
      });
      shutdown.add('dashboard', () => dashboard.close());
      dashboardUrl = dashboard.url;
    }
    workload.start();
    shutdown.add('workload', () => workload.stop());
    return { dashboardUrl, workload, metrics, summary, close: () => shutdown.run() };
  } catch (err) {
    await shutdown.run();
    throw err;
  }
}
