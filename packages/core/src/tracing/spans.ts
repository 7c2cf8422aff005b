/**
 * The spans ctlplane starts, by name, with their attributes: one place to read what a trace of
 * ctlplane holds. Attribute names follow OpenTelemetry's semantic conventions where one applies
 * (`db.operation.*` for the store's batch append, `messaging.*` for the relay's publish and the
 * agent's processing of a delivered event); the rest are under `ctlplane.`.
 *
 * @internal
 * @module
 */
import type { StoredEvent } from '../events/model.js';
import type { AppendRecord } from '../store/driver.js';
import type { SpanStart } from './tracing.js';

/**
 * @internal `ctlplane.append`: one batch append. A group commit (records of many callers) starts
 * a trace of its own and links to each record's; a caller's own append is a child of its span.
 */
export function appendSpan(records: readonly AppendRecord[], groupCommit: boolean): SpanStart {
  return {
    root: groupCommit,
    links: records.map((r) => r.traceContext),
    attributes: { 'db.operation.name': 'append', 'db.operation.batch.size': records.length },
  };
}

/**
 * @internal `ctlplane.relay.publish`: one relay round published until confirmed. It serves many
 * callers, so it starts a trace of its own linked to each event's stored context, as the messaging
 * conventions ask of a batch publish.
 */
export function relayPublishSpan(events: readonly StoredEvent[]): SpanStart {
  return {
    kind: 'producer',
    root: true,
    links: events.map((e) => e.traceContext),
    attributes: {
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.batch.message_count': events.length,
    },
  };
}

/**
 * @internal `ctlplane.agent.handle`: an agent's handler working on one event, a child of the
 * context stored with the event (the caller that created it).
 */
export function agentHandleSpan(event: StoredEvent, redelivery: boolean): SpanStart {
  return {
    kind: 'consumer',
    parent: event.traceContext,
    attributes: {
      'messaging.operation.type': 'process',
      'ctlplane.event.id': event.id,
      'ctlplane.event.type': event.type,
      'ctlplane.event.version': event.version,
      'ctlplane.event.status': event.status,
      'ctlplane.agent.redelivery': redelivery,
    },
  };
}
