import { MemoryFleetDriver } from '@ctlplane/adapters/memory';
import { Fleet } from '@ctlplane/core';
import { describeFleet } from './fleet.contract.js';

describeFleet('memory', async () => {
  const driver = new MemoryFleetDriver();
  const fleet = new Fleet({ driver });
  const peers: Fleet[] = [];
  return {
    fleet,
    // Another handle on the same in-memory inventory (a second component in the same process).
    peer: async () => {
      const f = new Fleet({ driver });
      peers.push(f);
      return f;
    },
    cleanup: async () => {
      await fleet.close();
    },
  };
});
