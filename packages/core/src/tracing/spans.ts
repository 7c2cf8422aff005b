/**
 * The spans ctlplane starts, by name, with their attributes: one place to read what a trace of
 * ctlplane holds. Attribute names follow OpenTelemetry's semantic conventions where one applies
 * (`db.operation.*` for the store's batch append, `messaging.*` for the relay's publish and the
 * agent's processing of a delivered event); the rest are under `ctlplane.`.
 *
 * @internal
 * @module
 */
import type { Attributes } from '@opentelemetry/api';
import type { StoredEvent, TransitionInput } from '../events/model.js';
import type { TraceContext } from '../events/trace-context.js';
import type { AppendRecord } from '../store/driver.js';
import { type SpanStart, startSpan } from './tracing.js';

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

/**
 * @internal `ctlplane.router.deliver`: the router took in a change of an event placed on a server
 * and queued it for that server's agent. A child of the event's stored context, ended at once
 * (the frame leaves with the next flush). `push`: the change came pushed (the bus input); `poll`:
 * from a read of the store's feed.
 */
export function recordRouterDelivery(event: StoredEvent, via: 'push' | 'poll', connected: boolean): void {
  startSpan('ctlplane.router.deliver', () => ({
    kind: 'producer',
    parent: event.traceContext,
    attributes: {
      'messaging.operation.type': 'send',
      'ctlplane.router.delivery': via,
      'ctlplane.agent.id': event.serverId ?? '',
      'ctlplane.agent.connected': connected,
      'ctlplane.event.id': event.id,
      'ctlplane.event.version': event.version,
      'ctlplane.event.status': event.status,
    },
  }))?.end();
}

/**
 * @internal `ctlplane.router.ack`: one batch of agents' acknowledgements applied as transitions.
 * It serves many agents, so it is a root linked to the context each acknowledgement carried back
 * (the agent's handler span); each applied transition is an event on it.
 */
export function routerAckSpan(traceContexts: readonly (TraceContext | null)[]): SpanStart {
  return {
    root: true,
    links: traceContexts,
    attributes: { 'db.operation.name': 'transition', 'db.operation.batch.size': traceContexts.length },
  };
}

/**
 * @internal `ctlplane.transitions`: one Harpoon group commit of transitions (many callers). A root
 * span; once the store answered it is linked to each transitioned event's stored context, and each
 * applied transition is an event on it.
 */
export function transitionBatchSpan(size: number): SpanStart {
  return { root: true, attributes: { 'db.operation.name': 'transition', 'db.operation.batch.size': size } };
}

/**
 * @internal The attributes of a `ctlplane.transition` span event: the event, its new status and
 * version, and `from` as the caller's compare-and-set named it (the statuses it expected; absent
 * when it set a version only: the store does not report the status it replaced).
 */
export function transitionEvent(input: TransitionInput, event: StoredEvent): Attributes {
  const from =
    input.from === undefined ? undefined : typeof input.from === 'string' ? [input.from] : input.from;
  return {
    'ctlplane.event.id': event.id,
    'ctlplane.event.version': event.version,
    'ctlplane.transition.to': event.status,
    ...(from ? { 'ctlplane.transition.from': [...from] } : {}),
    ...(event.serverId !== null ? { 'ctlplane.server.id': event.serverId } : {}),
  };
}

/**
 * @internal `ctlplane.harpoon.request` (server): a write to Harpoon's HTTP API that came with a W3C
 * `traceparent` header, a child of that context. A request without one gets no span: Harpoon does
 * not start traces of its own for untraced callers.
 */
export function harpoonRequestSpan(parent: TraceContext, method: string, path: string): SpanStart {
  return {
    kind: 'server',
    parent,
    attributes: { 'http.request.method': method, 'url.path': path, 'http.route': path },
  };
}
