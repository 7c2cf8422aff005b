/**
 * Harpoon: the event aggregator and database proxy, its outbox relay, and its HTTP server and client.
 *
 * @module
 */
export type { HarpoonApi } from './api.js';
export type { ParkedChange, RelayCursorStore } from './cursor-store.js';
export { Harpoon, type HarpoonEvents, type HarpoonOptions, type HarpoonStats } from './harpoon.js';
export type { BatchOptions, RelaySettings } from './harpoon-options.js';
export { HARPOON_SCOPES, type HarpoonScope, type ServiceToken } from './http/auth.js';
export {
  HarpoonClient,
  type HarpoonClientOptions,
  type HarpoonCoalesceOptions,
} from './http/client.js';
export type { ErrorBody } from './http/error-codec.js';
export { HarpoonHttpServer, type HarpoonHttpServerOptions, type HarpoonTlsOptions } from './http/server.js';
export {
  changeMessage,
  changeMessageId,
  OutboxRelay,
  type OutboxRelayEvents,
  type OutboxRelayOptions,
} from './outbox-relay.js';
export type { RelayStore } from './relay-store.js';
