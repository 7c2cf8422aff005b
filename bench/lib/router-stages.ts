/**
 * Where the pushed path's time goes, event by event: the append, the relay (woken by the commit,
 * reading the feed, publishing), RabbitMQ and the router's bus consumer up to the delivery coming
 * off the bus, then the router's dispatch, the WebSocket and the agents' process up to the handler.
 */
import { summarize } from './router-ipc.js';
import { pairsToMap } from './stage-clock.js';

type Lat = ReturnType<typeof summarize>;

/** Per-stage latencies of the pushed path, ms. */
export interface PushStages {
  /** `append()` call to its commit, per batch. */
  append: Lat;
  /** Commit to the relay's confirmed publish (`relay:published` covering the event's position). */
  commitToConfirmed: Lat;
  /** Commit to the router's bus consumer receiving the event. */
  commitToRouter: Lat;
  /** The router's bus consumer to the agent's handler (dispatch, WebSocket, agents' process). */
  routerToAgent: Lat;
  /** Inside the relay, per call: a feed read, and a page's publish until the broker confirmed it. */
  relayRead: Lat;
  relayPublish: Lat;
}

/** Inputs, all `Date.now()` times on one machine. */
export interface StageInputs {
  appendMs: readonly number[];
  /** Event id → commit time, and → feed position. */
  committed: ReadonlyMap<number, number>;
  seqs: ReadonlyMap<number, number>;
  /** `[cursor, time]` of each `relay:published`, in order. */
  published: readonly (readonly [number, number])[];
  /** Flat pairs (id, time): off the bus in the router; into the agent's handler. */
  fromBus: readonly number[];
  agentReceived: readonly number[];
  relayReadMs: readonly number[];
  relayPublishMs: readonly number[];
}

/** Per-stage summaries of the events that reached an agent. */
export function pushStages(x: StageInputs): PushStages {
  const fromBus = pairsToMap(x.fromBus);
  const confirmed: number[] = [];
  const toRouter: number[] = [];
  const toAgent: number[] = [];
  for (let i = 0; i < x.agentReceived.length; i += 2) {
    const id = x.agentReceived[i]!;
    const at = x.agentReceived[i + 1]!;
    const commit = x.committed.get(id);
    const bus = fromBus.get(id);
    if (commit === undefined || bus === undefined) continue;
    toRouter.push(bus - commit);
    toAgent.push(at - bus);
    const when = publishedAt(x.published, x.seqs.get(id));
    if (when !== undefined) confirmed.push(when - commit);
  }
  return {
    append: summarize(x.appendMs),
    commitToConfirmed: summarize(confirmed),
    commitToRouter: summarize(toRouter),
    routerToAgent: summarize(toAgent),
    relayRead: summarize(x.relayReadMs),
    relayPublish: summarize(x.relayPublishMs),
  };
}

/** The first `relay:published` whose cursor covers `seq` (binary search over the ordered list). */
function publishedAt(list: readonly (readonly [number, number])[], seq: number | undefined) {
  if (seq === undefined) return undefined;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]![0] >= seq) hi = mid;
    else lo = mid + 1;
  }
  return list[lo]?.[1];
}
