/**
 * Start the dashboard: explanations, state sampling, the event stream, and one HTTP server for
 * the page, `/events`, `/metrics` and the API.
 */
import type { CtlplaneMetrics } from '@ctlplane/adapters/prometheus';
import type { EventRouter, Fleet } from '@ctlplane/core';
import { apiRoutes, type DropletApi } from '../api.js';
import type { ConnectionCount } from '../backend.js';
import type { CloudOptions } from '../cli.js';
import { type HttpEndpoint, serve } from '../http-util.js';
import type { StatusTally } from '../tally.js';
import type { SpanRing } from '../tracing/exporters.js';
import type { Workload } from '../workload.js';
import type { Explainer } from './explainer.js';
import { metricsRoute, SnapshotStream, staticRoutes } from './server.js';
import { DashboardState } from './state.js';
import { traceRoute } from './trace-route.js';

/** What the dashboard reads. */
export interface DashboardDeps {
  readonly service: DropletApi;
  readonly explainer: Explainer;
  readonly fleet: Fleet;
  readonly routers: readonly EventRouter[];
  readonly db: readonly ConnectionCount[];
  readonly tally: StatusTally;
  readonly workload: Workload | null;
  readonly metrics: CtlplaneMetrics;
  readonly backends: string;
  /** This process's finished spans (`--trace`), for the trace waterfall; null without tracing. */
  readonly spans: SpanRing | null;
}

/** A running dashboard. */
export interface Dashboard {
  readonly url: string;
  close(): Promise<void>;
}

/** Serve the dashboard on `--host`:`--dashboard-port`. */
export async function startDashboard(o: CloudOptions, d: DashboardDeps): Promise<Dashboard> {
  const explainer = d.explainer;
  const state = new DashboardState({ ...d, explainer, overcommit: o.overcommit, regions: o.regions });
  const stream = new SnapshotStream(state);
  let http: HttpEndpoint;
  try {
    http = await serve(o.host, o.dashboardPort, [
      staticRoutes(),
      stream.routes(),
      metricsRoute(d.metrics),
      traceRoute(d.spans),
      apiRoutes(explainer.wrap(d.service, true)),
    ]);
  } catch (err) {
    stream.stop();
    throw err;
  }
  return {
    url: http.url,
    close: async () => {
      stream.stop();
      await http.close();
    },
  };
}
