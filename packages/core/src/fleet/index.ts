/**
 * The fleet: the server inventory and its reservations. The driver contract and the capacity and
 * fence rules every backend shares are in `@ctlplane/core/driver`.
 *
 * @module
 */
export type { FleetCapabilities } from './driver.js';
export { Fleet, type FleetOptions } from './fleet.js';
export {
  type Allocation,
  type AllocationQuery,
  type ReleaseInput,
  type ReleaseOutcome,
  type ReserveFailure,
  type ReserveInput,
  type ReserveOutcome,
  type Resources,
  SERVER_STATES,
  type Server,
  type ServerInput,
  type ServerQuery,
  type ServerState,
} from './model.js';
