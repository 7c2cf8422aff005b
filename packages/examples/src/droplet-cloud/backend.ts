/**
 * The backends a process opens: in memory by default, MariaDB/MySQL with `--mysql`, RabbitMQ with
 * `--amqp`. The drivers are loaded only when asked for, so the in-memory default needs none.
 */
import {
  MemoryBus,
  MemoryCursorStore,
  MemoryEventStoreDriver,
  MemoryFleetDriver,
} from '@ctlplane/adapters/memory';
import type { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import {
  type BusTopology,
  EventStore,
  Fleet,
  type Logger,
  type MessageBus,
  maskSecrets,
  type RelayCursorStore,
} from '@ctlplane/core';
import type { FleetDriver } from '@ctlplane/core/driver';
import type { CloudOptions } from './cli.js';
import { type DropletTypes, dropletTypes } from './types.js';

/** A MySQL pool one backend shares with another. */
export type SharedPool = MysqlEventStoreDriver['pool'];

/** How many database connections (or, in memory, store and fleet clients) a process holds. */
export interface ConnectionCount {
  /** `mysql connections` or `in-memory clients`. */
  readonly unit: string;
  /** The count now. */
  count(): number;
}

/** The events table, owned by Harpoon. */
export interface EventsBackend {
  readonly store: EventStore<DropletTypes>;
  readonly cursors: RelayCursorStore;
  readonly connections: ConnectionCount;
  /** The MySQL pool to share with the fleet, when on MySQL. */
  readonly sharedPool: SharedPool | undefined;
  close(): Promise<void>;
}

/** URLs with their passwords masked, comma-separated. */
const maskList = (urls: readonly string[]): string => urls.map((u) => maskSecrets(u)).join(',');

/** Where the backends are, for messages (passwords masked). */
export function describeBackends(o: CloudOptions): string {
  const db = o.mysql ? `MariaDB/MySQL ${maskList(o.mysql.split(','))} (tables ${o.tablePrefix}*)` : 'memory';
  const bus = o.amqp ? `RabbitMQ ${maskList(o.amqp)} (exchange ${exchangeName(o)})` : 'memory';
  return `store: ${db}; bus: ${bus}`;
}

/** The exchange of this deployment: one per table prefix, so two deployments never mix. */
export function exchangeName(o: CloudOptions): string {
  return `droplet-cloud.${o.tablePrefix}`;
}

/**
 * Open the event store (and the relay's cursor store), applying migrations unless told not to;
 * on MySQL with a pool of `poolSize` connections.
 */
export async function openEvents(o: CloudOptions, logger: Logger, poolSize = 4): Promise<EventsBackend> {
  if (!o.mysql) {
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: dropletTypes, logger });
    return {
      store,
      cursors: new MemoryCursorStore(),
      connections: { unit: 'in-memory clients', count: () => (store.closed ? 0 : 1) },
      sharedPool: undefined,
      close: () => store.close(),
    };
  }
  const { migrate, MysqlCursorStore, MysqlEventStoreDriver } = await import('@ctlplane/adapters/mysql');
  if (o.migrate) await migrate({ url: o.mysql, tablePrefix: o.tablePrefix, logger });
  const driver = new MysqlEventStoreDriver({ url: o.mysql, tablePrefix: o.tablePrefix, poolSize, logger });
  await driver.ready();
  const cursors = new MysqlCursorStore({ pool: driver.pool, tablePrefix: o.tablePrefix });
  const store = new EventStore({ driver, types: dropletTypes, logger });
  return {
    store,
    cursors,
    connections: { unit: 'mysql connections', count: () => driver.connections() },
    sharedPool: driver.pool,
    close: () => store.close(),
  };
}

/** The fleet inventory and what its connections count. */
export interface FleetBackend {
  readonly fleet: Fleet;
  readonly connections: ConnectionCount;
  close(): Promise<void>;
}

type FleetDriverClass = new (options: { pool: SharedPool; tablePrefix: string }) => FleetDriver;

/** The MySQL fleet driver, when `@ctlplane/adapters/mysql` exports it (see the report of issue 7). */
async function mysqlFleetDriver(): Promise<FleetDriverClass | null> {
  const mod: Record<string, unknown> = await import('@ctlplane/adapters/mysql');
  return typeof mod.MysqlFleetDriver === 'function' ? (mod.MysqlFleetDriver as FleetDriverClass) : null;
}

function memoryFleet(logger: Logger): FleetBackend {
  const fleet = new Fleet({ driver: new MemoryFleetDriver(), logger });
  let open = true;
  return {
    fleet,
    connections: { unit: 'in-memory clients', count: () => (open ? 1 : 0) },
    close: async () => {
      open = false;
      await fleet.close();
    },
  };
}

/**
 * Open the fleet inventory. On MySQL it shares `pool` when given (one pool per process); otherwise
 * it opens a pool of two, borrowed from an event-store driver because the fleet driver does not
 * report its connections. Where the MySQL fleet driver is unavailable, the inventory is kept in
 * this process's memory (correct while one scheduler process owns it).
 */
export async function openFleet(o: CloudOptions, logger: Logger, pool?: SharedPool): Promise<FleetBackend> {
  const Driver = o.mysql ? await mysqlFleetDriver() : null;
  if (!o.mysql || !Driver) {
    if (o.mysql)
      logger.warn('MysqlFleetDriver is not exported by @ctlplane/adapters/mysql: fleet kept in memory');
    return memoryFleet(logger);
  }
  const tablePrefix = o.tablePrefix;
  if (pool) {
    const fleet = new Fleet({ driver: new Driver({ pool, tablePrefix }), logger });
    return { fleet, connections: { unit: 'mysql connections', count: () => 0 }, close: () => fleet.close() };
  }
  const { migrate, MysqlEventStoreDriver } = await import('@ctlplane/adapters/mysql');
  if (o.migrate) await migrate({ url: o.mysql, tablePrefix, logger });
  const owner = new MysqlEventStoreDriver({ url: o.mysql, tablePrefix, poolSize: 2, logger });
  await owner.ready();
  const fleet = new Fleet({ driver: new Driver({ pool: owner.pool, tablePrefix }), logger });
  return {
    fleet,
    connections: { unit: 'mysql connections', count: () => owner.connections() },
    close: async () => {
      await fleet.close();
      await owner.close();
    },
  };
}

/** Open the bus: a MemoryBus, or an AmqpBus on this deployment's exchange. */
export async function openBus(
  o: CloudOptions,
  logger: Logger,
  queues: BusTopology['queues'],
  connectionName: string,
): Promise<MessageBus> {
  const topology: BusTopology = { exchange: exchangeName(o), queues: queues ?? [] };
  if (!o.amqp) return new MemoryBus({ topology, logger });
  const { AmqpBus } = await import('@ctlplane/adapters/amqp');
  const bus = new AmqpBus({ urls: o.amqp, topology, connectionName, logger });
  await bus.ready();
  return bus;
}
