/**
 * `@ctlplane/adapters/ws`: the WebSocket transport between an EventRouter and its agents, on
 * `ws` (an optional peer dependency: install it to use this subpath).
 *
 * @packageDocumentation
 */
export { WsConnector, type WsConnectorOptions } from './ws-connector.js';
export { WsTransportServer, type WsTransportServerOptions } from './ws-transport-server.js';
