/**
 * The fleet: the server inventory port, its wrapper, and the capacity and fence rules every
 * backend shares.
 *
 * @module
 */
export type { FleetCapabilities, FleetDriver, ServerRecord } from './driver.js';
export { Fleet, type FleetOptions } from './fleet.js';
export {
  type Allocation,
  type AllocationQuery,
  isFenced,
  isRetired,
  type ReleaseInput,
  type ReleaseOutcome,
  type ReserveFailure,
  type ReserveInput,
  type ReserveOutcome,
  type Resources,
  retiredFence,
  SERVER_STATES,
  type Server,
  type ServerInput,
  type ServerQuery,
  type ServerState,
} from './model.js';
export {
  checkReservation,
  missingResource,
  type ReservableState,
  usableCapacity,
} from './rules.js';
