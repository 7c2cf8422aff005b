/**
 * `@ctlplane/core/driver`: the kit for writing an adapter. The driver contracts the `EventStore`
 * and `Fleet` wrappers run on, the records a driver receives, the rules every backend applies
 * inside its transaction (so they cannot drift between backends), the shared pieces of a
 * `MessageBus` or a transport, and the validation and retry helpers the bundled adapters use.
 *
 * Applications import from `@ctlplane/core`; nothing here is needed to use ctlplane, only to
 * back it with another database, broker or transport. See docs/adapters.md, "Writing an adapter".
 *
 * @example
 * ```ts
 * import type { EventStoreDriver } from '@ctlplane/core/driver';
 * import { planTransition } from '@ctlplane/core/driver';
 * ```
 *
 * @packageDocumentation
 */

// MessageBus: the emitter, deliveries, message preparation and topology every backend shares
export { BusEmitter } from '../bus/bus-emitter.js';
export { BusDelivery, runHandler, type Settlement } from '../bus/delivery.js';
export { compileTopic } from '../bus/routing.js';
export {
  type PreparedMessage,
  prepareMessage,
  prepareMessages,
  subscribeOptionsSchema,
} from '../bus/schemas.js';
export {
  queueForSubscribe,
  type ResolvedQueue,
  type ResolvedTopology,
  resolveTopology,
} from '../bus/topology.js';
// Fleet driver: the contract, what it receives, capacity and fence rules
export type { FleetDriver, ServerRecord } from '../fleet/driver.js';
export { isFenced, isRetired, retiredFence } from '../fleet/model.js';
export { checkReservation, missingResource, type ReservableState, usableCapacity } from '../fleet/rules.js';
// Validation and retries
export { type BackoffOptions, backoffDelay, withRetry } from '../retry.js';
// Transport: one connection, and what a server hands each new one to
export type { ConnectionReceiver, TransportConnection } from '../router/transport.js';
// EventStore driver: the contract, what it receives, the transition rules
export type { AppendRecord, DriverQuery, EventStoreDriver } from '../store/driver.js';
export { storedFromRecord } from '../store/to-append-record.js';
export {
  applyTransitionGuard,
  type GuardApplied,
  type TransitionGuard,
  transitionGuard,
} from '../store/transition-guard.js';
export { planTransition, type TransitionPlan } from '../store/transition-rules.js';
export { parseOrThrow } from '../validation.js';
