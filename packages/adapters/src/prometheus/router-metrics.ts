/**
 * EventRouter metrics: agents connected (the router-connections side of the connection story),
 * connections and rejections, deliveries, acknowledgements, database queries and input errors.
 *
 * @internal
 * @module
 */
import type { EventRouter, EventRouterEvents } from '@ctlplane/core';
import { type Families, subscribe } from './families.js';

/** @internal */
export function observeRouter(f: Families, router: EventRouter): () => void {
  const region = router.region;
  const connections = f.sampled(
    'gauge',
    'router_connections',
    'Agents connected to the routers of a region.',
    ['region'],
  );
  const queries = f.sampled(
    'counter',
    'router_db_queries_total',
    'Database queries the routers of a region issued (every kind).',
    ['region'],
  );
  const connects = f.counter('router_agent_connections_total', 'Agents accepted (reconnects included).', [
    'region',
  ]);
  const disconnects = f.counter('router_agent_disconnections_total', 'Agent connections ended, by reason.', [
    'region',
    'reason',
  ]);
  const rejected = f.counter('router_agents_rejected_total', 'Connections refused before being served.', [
    'region',
    'reason',
  ]);
  const delivered = f.counter('router_delivered_events_total', 'Events sent to agents.', ['region']);
  const acks = f.counter('router_acks_total', 'Agent acknowledgements applied to the store, by result.', [
    'region',
    'result',
  ]);
  const heartbeats = f.counter('router_heartbeats_total', 'Agent heartbeats received.', ['region']);
  const inputErrors = f.counter('router_input_errors_total', 'Input failures being retried.', ['region']);
  delivered.inc({ region }, 0);
  const removers = [
    connections.add({ region }, () => router.stats().agentsConnected),
    queries.add({ region }, () => router.stats().dbQueries.total ?? 0),
    subscribe<EventRouterEvents>(router, {
      'router:agent:connected': () => connects.inc({ region }),
      'router:agent:disconnected': (e) => disconnects.inc({ region, reason: e.reason }),
      'router:agent:rejected': (e) => rejected.inc({ region, reason: e.reason }),
      'router:delivered': (e) => delivered.inc({ region }, e.events),
      'router:acks:applied': (e) => {
        acks.inc({ region, result: 'applied' }, e.count - e.failed);
        if (e.failed > 0) acks.inc({ region, result: 'failed' }, e.failed);
      },
      'router:agent:heartbeat': () => heartbeats.inc({ region }),
      'router:input:error': () => inputErrors.inc({ region }),
    }),
  ];
  return () => {
    for (const r of removers) r();
  };
}
