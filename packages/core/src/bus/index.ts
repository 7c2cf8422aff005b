/**
 * MessageBus: the port, routing keys and topology. Adapters: `MemoryBus` in
 * `@ctlplane/adapters/memory`, `AmqpBus` in `@ctlplane/adapters/amqp`.
 *
 * @module
 */
export { BusEmitter } from './bus-emitter.js';
export { BusDelivery, runHandler, type Settlement, toError } from './delivery.js';
export type {
  BusCapabilities,
  BusHeaders,
  BusMessage,
  Delivery,
  DeliveryHandler,
  HeaderValue,
  MessageBus,
  MessageBusEvents,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from './message-bus.js';
export { isCertainlyValid } from './quick-validate.js';
export {
  ALL_EVENTS_PATTERN,
  checkRoutingKeyLength,
  compileTopic,
  EVENT_KEY_PREFIX,
  type EventRoutingFields,
  escapeRoutingWord,
  eventRoutingKey,
  MAX_ROUTING_KEY_BYTES,
  parseEventRoutingKey,
  regionPattern,
  serverPattern,
  topicMatches,
  typePattern,
  UNPLACED_SERVER,
  unescapeRoutingWord,
  unplacedPattern,
} from './routing.js';
export {
  busNameSchema,
  outgoingMessageSchema,
  type PreparedMessage,
  patternSchema,
  prepareMessage,
  prepareMessages,
  subscribeOptionsSchema,
} from './schemas.js';
export {
  type BusQueueConfig,
  type BusTopology,
  DEAD_LETTER_SUFFIX,
  deadLetterQueueName,
  type QueueOverflow,
  queueConfigSchema,
  queueForSubscribe,
  type ResolvedQueue,
  type ResolvedTopology,
  resolveQueue,
  resolveTopology,
} from './topology.js';
