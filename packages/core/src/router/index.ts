/**
 * EventRouter and Agent: a regional router serves thousands of host agents over a handful of
 * database connections.
 *
 * @module
 */
export { Agent } from './agent/agent.js';
export type { AgentEvents } from './agent/agent-events.js';
export type {
  AgentHandler,
  AgentHandlerContext,
  AgentHandlers,
  AgentOptions,
} from './agent/agent-options.js';
export { type AgentKey, AgentKeyring, type AgentKeyringOptions } from './auth/agent-keyring.js';
export {
  type AgentAuthenticator,
  type AgentIdentity,
  TokenError,
  type TokenErrorReason,
} from './auth/authenticator.js';
export {
  AUTH_CLOSE_REASONS,
  CLOSE_CODES,
  type CloseReason,
  closeReasonOf,
  type DisconnectReason,
} from './close-reasons.js';
export { EventRouter } from './event-router.js';
export { InProcessTransport } from './in-process-transport.js';
export { BusInput, type BusInputOptions } from './inputs/bus-input.js';
export type { RouterInput, RouterInputSink, RouterQueryKind } from './inputs/input.js';
export { StorePollInput, type StorePollInputOptions } from './inputs/store-poll-input.js';
export {
  type AckStatus,
  type AgentMetrics,
  MAX_FRAME_BYTES,
  MAX_FRAME_DEPTH,
  MAX_HELLO_FRAME_BYTES,
  MAX_ROUTER_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ResyncReason,
} from './protocol.js';
export type { EventRouterEvents, RouterStats } from './router-events.js';
export type { EventRouterOptions, MetricsSink } from './router-options.js';
export type { RouterStore } from './router-store.js';
export type { TransportConnector, TransportServer } from './transport.js';
