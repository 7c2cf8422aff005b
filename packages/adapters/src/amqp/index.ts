/**
 * `@ctlplane/adapters/amqp`: the MessageBus on RabbitMQ. Needs the optional peer dependency
 * `amqplib`.
 *
 * @packageDocumentation
 */
export { AmqpBus } from './amqp-bus.js';
export type { AmqpBusOptions, AmqpQueueType } from './amqp-options.js';
