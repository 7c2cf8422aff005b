/**
 * The typed event emitter every bus extends. A listener that throws is logged, so a faulty
 * listener can never reject a confirmed publish, kill a consumer or crash the process.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { type Logger, noopLogger } from '../logger.js';
import { toError } from './delivery.js';
import type { MessageBusEvents } from './message-bus.js';

/** An eventemitter3 emitter of {@link MessageBusEvents} whose `emit` never throws. Adapters extend it. */
export class BusEmitter extends EventEmitter<MessageBusEvents> {
  readonly #listenerLog: Logger;

  /** @param log - where a throwing listener is reported (default: nowhere) */
  constructor(log: Logger = noopLogger) {
    super();
    this.#listenerLog = log;
  }

  /**
   * Call the listeners of `event`. One that throws is logged instead of propagating (listeners
   * after it in the list are skipped for this event).
   */
  override emit<T extends EventEmitter.EventNames<MessageBusEvents>>(
    event: T,
    ...args: EventEmitter.EventArgs<MessageBusEvents, T>
  ): boolean {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      this.#listenerLog.error('bus event listener threw', { event, error: toError(err).message });
      return true;
    }
  }
}
