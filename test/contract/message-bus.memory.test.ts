import { MemoryBroker, MemoryBus } from '@ctlplane/adapters/memory';
import { describeMessageBus } from './message-bus.contract.js';

const broker = new MemoryBroker();

describeMessageBus(
  'memory',
  async ({ topology, prefetch }) => new MemoryBus({ broker, topology, prefetch }),
  {
    queueExists: async (name) => broker.stats(name) !== null,
  },
);
