/**
 * MessageBus: the port, routing keys and topology. Adapters: `MemoryBus` in
 * `@ctlplane/adapters/memory`, `AmqpBus` in `@ctlplane/adapters/amqp`; what they share is in
 * `@ctlplane/core/driver`.
 *
 * @module
 */
export {
  type BusCapabilities,
  type BusHeaders,
  type BusMessage,
  type Delivery,
  type DeliveryHandler,
  type HeaderValue,
  isUnpublishable,
  type MessageBus,
  type MessageBusEvents,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
} from './message-bus.js';
export {
  ALL_EVENTS_PATTERN,
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
  type BusQueueConfig,
  type BusTopology,
  DEAD_LETTER_SUFFIX,
  deadLetterQueueName,
  type QueueOverflow,
} from './topology.js';
