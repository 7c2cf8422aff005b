/**
 * `--role api`: the public droplet API. Every request becomes an event through Harpoon's HTTP
 * API; this process has no database connection.
 */
import type { Logger } from '@ctlplane/core';
import { apiRoutes, DropletService } from '../api.js';
import type { CloudOptions } from '../cli.js';
import { serve } from '../http-util.js';
import { apiPort, harpoonFor } from './endpoints.js';
import { RoleKit, type RunningRole } from './role.js';

export async function startApiRole(
  o: CloudOptions,
  _log: Logger,
  say: (l: string) => void,
): Promise<RunningRole> {
  const kit = new RoleKit();
  const harpoon = await harpoonFor(o, 'api');
  let requests = 0;
  const http = await serve(o.host, apiPort(o), [
    (_req, _res, url) => {
      if (url.pathname.startsWith('/api/')) requests++;
      return false;
    },
    apiRoutes(new DropletService(harpoon, o.regions)),
  ]);
  kit.shutdown.add('http', () => http.close());
  kit.metrics.trackConnections('api', () => 0);
  const metricsUrl = await kit.serveMetrics(o);
  say(`api: ready at ${http.url}${metricsUrl ? ` (metrics ${metricsUrl})` : ''}`);
  return {
    summary: async () => `api: ${requests} requests | 0 database connections`,
    close: () => kit.close(),
  };
}
