/**
 * One EventRouter per region. By default routers read through Harpoon (never the database directly)
 * and are pushed their region's changes by Harpoon's relay over the bus.
 */
import {
  type AgentKeyring,
  BusInput,
  EventRouter,
  type Logger,
  type MessageBus,
  type MetricsSink,
  type RouterInput,
  type RouterStore,
  type TransportServer,
} from '@ctlplane/core';

/**
 * The bus queue of a region's router (declared expiring, so a crashed router leaves nothing
 * behind); every replica has its own, since each must see every change of the region.
 */
export const routerQueue = (prefix: string, region: string, replica = 0): string =>
  `droplet-cloud.${prefix}.router.${region}${replica > 0 ? `.r${replica}` : ''}`;

/** Changes pushed over the bus: the replica's own queue of the region. */
export const busInput =
  (bus: MessageBus, prefix: string, replica = 0) =>
  (region: string): RouterInput =>
    new BusInput({ bus, queue: routerQueue(prefix, region, replica) });

/** Start a router per region, each listening on the server `listenOn` gives it. */
export async function startRouters(deps: {
  regions: readonly string[];
  store: RouterStore;
  /** Where a region's router learns of changes (e.g. {@link busInput}, or polling the store). */
  input: (region: string) => RouterInput;
  keyring: AgentKeyring;
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
        input: deps.input(region),
        onMetrics: deps.onMetrics(region),
        heartbeatMs: 2_000,
        logger: deps.logger,
      });
      await router.listen(deps.listenOn(region, i));
      return router;
    }),
  );
}
