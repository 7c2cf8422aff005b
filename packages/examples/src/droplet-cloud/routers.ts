/**
 * One EventRouter per region. Routers read through Harpoon (never the database directly) and are
 * pushed their region's changes by Harpoon's relay over the bus.
 */
import {
  type AgentKeyring,
  BusInput,
  EventRouter,
  type Logger,
  type MessageBus,
  type MetricsSink,
  type RouterStore,
  type TransportServer,
} from '@ctlplane/core';

/** The bus queue of a region's router (declared expiring, so a crashed router leaves nothing behind). */
export const routerQueue = (prefix: string, region: string): string =>
  `droplet-cloud.${prefix}.router.${region}`;

/** Start a router per region, each listening on the server `listenOn` gives it. */
export async function startRouters(deps: {
  regions: readonly string[];
  store: RouterStore;
  bus: MessageBus;
  keyring: AgentKeyring;
  prefix: string;
  onMetrics: (region: string) => MetricsSink;
  listenOn: (region: string, index: number) => TransportServer;
  logger: Logger;
}): Promise<EventRouter[]> {
  return Promise.all(
    deps.regions.map(async (region, i) => {
      const router = new EventRouter({
        store: deps.store,
        region,
        auth: deps.keyring,
        input: new BusInput({ bus: deps.bus, queue: routerQueue(deps.prefix, region) }),
        onMetrics: deps.onMetrics(region),
        heartbeatMs: 2_000,
        logger: deps.logger,
      });
      await router.listen(deps.listenOn(region, i));
      return router;
    }),
  );
}
