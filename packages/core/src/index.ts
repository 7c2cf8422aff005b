/**
 * `@ctlplane/core`: the components of a cloud control plane and what an application needs to use
 * them. No database drivers: pair it with `@ctlplane/adapters/memory`, `/mysql` or `/amqp`. The kit
 * for writing an adapter (driver contracts, shared rules, helpers) is `@ctlplane/core/driver`.
 *
 * @packageDocumentation
 */

// MessageBus (port, routing)
export * from './bus/index.js';
// Errors
export {
  BusyError,
  ClosedError,
  ConflictError,
  CtlplaneError,
  type CtlplaneErrorCode,
  ERROR_CODES,
  isCtlplaneError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
  UnpublishableError,
  UnsupportedError,
  ValidationError,
  type ValidationIssue,
} from './errors.js';
// Events: size limits, model, lifecycle, type registry, trace context
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  fitError,
  MAX_ENVELOPE_BYTES,
  MAX_ERROR_BYTES,
  MAX_REGION_KEY_BYTES,
  MAX_RESULT_BYTES,
  MAX_SERVER_KEY_BYTES,
  MAX_TYPE_KEY_BYTES,
  maxEventMessageBytes,
} from './events/limits.js';
export type {
  ClaimFilter,
  ClaimInput,
  EventPage,
  EventQuery,
  FeedFilter,
  FeedPage,
  JsonValue,
  NewEvent,
  StoredEvent,
  TransitionInput,
  TransitionOutcome,
} from './events/model.js';
export {
  defineEventTypes,
  type EventTypeMap,
  EventTypeRegistry,
  type EventTypesOptions,
  type ParseOptions,
  type PayloadOf,
} from './events/registry.js';
export {
  ACTIVE_STATUSES,
  canTransition,
  EVENT_STATUSES,
  type EventStatus,
  isTerminal,
  TERMINAL_STATUSES,
  TRANSITIONS,
} from './events/status.js';
export {
  isTraceContext,
  MAX_TRACESTATE_LENGTH,
  type TraceContext,
  traceContextSchema,
} from './events/trace-context.js';
export { toWireEvent, type WireEvent, wireEventSchema } from './events/wire.js';
// Fleet: server inventory and reservations
export * from './fleet/index.js';
// Harpoon: aggregator, outbox relay, HTTP server and client
export * from './harpoon/index.js';
// Logging, sleeping
export {
  consoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  maskSecrets,
  noopLogger,
} from './logger.js';
export { type SleepOptions, sleep } from './retry.js';
// EventRouter and Agent
export * from './router/index.js';
// Scheduler: metrics sources, filters, strategies, pipeline
export * from './scheduler/index.js';
// EventStore
export type { DriverCapabilities } from './store/driver.js';
export { EventStore } from './store/event-store.js';
export type {
  EventLimits,
  EventOf,
  EventStoreEvents,
  EventStoreOptions,
  NewEventOf,
} from './store/event-store-types.js';
export type { FollowOptions } from './store/follow.js';
export {
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  traceContextFromHeaders,
  traceContextOf,
  traceHeaders,
} from './tracing/propagation.js';
