import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore } from '@ctlplane/core';
import { testTypes } from './event-store.fixtures.js';
import { describeEventStoreProperties } from './event-store.property.js';

describeEventStoreProperties(
  'memory',
  async () => {
    const driver = new MemoryEventStoreDriver();
    const store = new EventStore({ driver, types: testTypes });
    return { store, driver, cleanup: () => store.close() };
  },
  200,
);
