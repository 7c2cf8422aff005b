/**
 * The Harpoon set-up the Harpoon benchmarks share (bench/harpoon.ts, the capacity benchmark's
 * Harpoon process and the trace-profile harness), so that their figures compare.
 */
import { MysqlCursorStore, type MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import type { EventStore, EventTypeMap, HarpoonOptions, MessageBus } from '@ctlplane/core';

/**
 * Harpoon's options in the benchmarks: `store` relayed to `bus`, the relay's cursor kept through
 * `driver`'s pool in the tables under `tablePrefix`; creates group-committed in batches of up to
 * 500 (2 ms linger, 3 transactions in flight), and up to 20,000 requests queued.
 */
export function benchHarpoonOptions<M extends EventTypeMap>(
  store: EventStore<M>,
  bus: MessageBus,
  driver: MysqlEventStoreDriver,
  tablePrefix: string,
): HarpoonOptions<M> {
  return {
    store,
    bus,
    cursors: new MysqlCursorStore({ pool: driver.pool, tablePrefix }),
    creates: { maxBatch: 500, lingerMs: 2, concurrency: 3 },
    maxPending: 20_000,
  };
}
