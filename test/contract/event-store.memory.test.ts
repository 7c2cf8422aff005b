import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore } from '@ctlplane/core';
import { describeEventStore } from './event-store.contract.js';
import { testTypes } from './event-store.fixtures.js';

describeEventStore('memory', async () => {
  const driver = new MemoryEventStoreDriver();
  const store = new EventStore({ driver, types: testTypes });
  return { store, driver, cleanup: () => store.close() };
});
