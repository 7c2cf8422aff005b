/**
 * One page of the outbox relay: the messages of its changes, and how a page whose publish was
 * refused for good is taken apart so that only the changes that can never be published are set
 * aside (parked) and everything else is still published, in feed order.
 *
 * @internal
 * @module
 */
import { isUnpublishable, type MessageBus, type OutgoingMessage } from '../bus/message-bus.js';
import { eventRoutingKey } from '../bus/routing.js';
import { UnpublishableError, ValidationError } from '../errors.js';
import type { StoredEvent } from '../events/model.js';
import { toWireEvent } from '../events/wire.js';
import { traceHeaders } from '../tracing/propagation.js';

/** The message id of a change: stable across republishes, distinct per version. */
export function changeMessageId(e: Pick<StoredEvent, 'id' | 'version'>): string {
  return `event:${e.id}:v${e.version}`;
}

/**
 * The message that carries one changed event, with the event's trace context in the `traceparent`
 * and `tracestate` headers (an event stored without one carries the relay round's span instead).
 *
 * @throws UnpublishableError when the event's routing key cannot be built (over 255 bytes: an
 *   event stored before names were bounded)
 */
export function changeMessage(e: StoredEvent): OutgoingMessage {
  return {
    id: changeMessageId(e),
    routingKey: routingKeyOf(e),
    body: toWireEvent(e) as unknown as OutgoingMessage['body'],
    // The event's stored context (its creator's), not the relay's: consumers join the creator's trace.
    headers: { status: e.status, seq: e.seq, ...traceHeaders(e.traceContext) },
  };
}

/** The routing key of a change; a key that cannot be built is a message that can never be published. */
function routingKeyOf(e: StoredEvent): string {
  try {
    return eventRoutingKey(e);
  } catch (err) {
    throw err instanceof ValidationError ? UnpublishableError.from(err) : err;
  }
}

/** @internal A change and its message. */
export interface PageMessage {
  readonly event: StoredEvent;
  readonly message: OutgoingMessage;
}

/** @internal A change that can never be published, and why. */
export interface Unpublishable {
  readonly event: StoredEvent;
  readonly reason: string;
}

/** @internal The messages of a page, and the changes whose message cannot even be built. */
export function pageMessages(events: readonly StoredEvent[]): {
  messages: PageMessage[];
  unbuildable: Unpublishable[];
} {
  const messages: PageMessage[] = [];
  const unbuildable: Unpublishable[] = [];
  for (const event of events) {
    try {
      messages.push({ event, message: changeMessage(event) });
    } catch (err) {
      if (!isUnpublishable(err)) throw err;
      unbuildable.push({ event, reason: (err as Error).message });
    }
  }
  return { messages, unbuildable };
}

/**
 * @internal Publish `messages` in order after `publishMany` refused them with a permanent error:
 * halve the batch until each refusal is pinned on one message, which is returned to be parked.
 * Costs about 2·k·log2(n) publish calls for k bad messages of n, and only on this path.
 *
 * @throws the first transient failure: the caller retries the page from its saved cursor
 */
export async function publishAround(
  bus: MessageBus,
  messages: readonly PageMessage[],
): Promise<Unpublishable[]> {
  const refused: Unpublishable[] = [];
  const attempt = async (part: readonly PageMessage[]): Promise<void> => {
    if (part.length === 0) return;
    try {
      await bus.publishMany(part.map((m) => m.message));
    } catch (err) {
      if (!isUnpublishable(err)) throw err;
      if (part.length === 1) {
        refused.push({ event: part[0]!.event, reason: (err as Error).message });
        return;
      }
      const mid = part.length >> 1;
      await attempt(part.slice(0, mid));
      await attempt(part.slice(mid));
    }
  };
  await attempt(messages);
  return refused;
}
