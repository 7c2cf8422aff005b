/**
 * What every role process has: a summary line, a shutdown, and optionally `/metrics`.
 */
import { CtlplaneMetrics } from '@ctlplane/adapters/prometheus';
import type { CloudOptions } from '../cli.js';
import { metricsRoute } from '../dashboard/server.js';
import { type Handler, sendJson, serve } from '../http-util.js';
import { Shutdown } from '../lifecycle.js';

/** A running role. */
export interface RunningRole {
  /** One line about what this process did so far. */
  summary(): Promise<string>;
  /** Stop it; resolves with the errors of steps that failed. */
  close(): Promise<string[]>;
}

/** Shared setup of a role: its shutdown stack and its metrics registry. */
export class RoleKit {
  readonly shutdown = new Shutdown();
  readonly metrics = new CtlplaneMetrics();

  /** Serve `/metrics` (and `/health`) when `--metrics-port` is given; returns the URL or null. */
  async serveMetrics(o: CloudOptions): Promise<string | null> {
    if (o.metricsPort === undefined) return null;
    const health: Handler = (_req, res, url) => {
      if (url.pathname !== '/health') return false;
      sendJson(res, 200, { ok: true, role: o.role });
      return true;
    };
    const http = await serve(o.host, o.metricsPort, [metricsRoute(this.metrics), health]);
    this.shutdown.add('metrics endpoint', () => http.close());
    return `${http.url}/metrics`;
  }

  /** Run the shutdown (after the caller's steps). */
  close(): Promise<string[]> {
    this.metrics.close();
    return this.shutdown.run();
  }
}
