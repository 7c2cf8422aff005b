/**
 * The EventRouter's typed events and counters.
 *
 * @module
 */
import type { CloseReason, DisconnectReason } from './close-reasons.js';
import type { RouterQueryKind } from './inputs/input.js';
import type { AgentMetrics, ResyncReason } from './protocol.js';

/** Events an {@link EventRouter} emits; one payload object each. */
export interface EventRouterEvents {
  /** The router loaded its region's open events and its input runs. */
  'router:started': (e: { routerId: string; region: string; cursor: number; openEvents: number }) => void;
  /** An agent proved its identity and is served. */
  'router:agent:connected': (e: {
    serverId: string;
    sessionId: number;
    remoteAddress: string;
    resumed: boolean;
  }) => void;
  /** A served agent's connection ended. */
  'router:agent:disconnected': (e: {
    serverId: string;
    sessionId: number;
    reason: DisconnectReason;
    message: string;
  }) => void;
  /** A connection was refused before it was served (bad token, wrong server or region, full). */
  'router:agent:rejected': (e: { remoteAddress: string; reason: CloseReason; message: string }) => void;
  /** An agent was told to re-read its open events (fresh start or a cursor older than the history). */
  'router:agent:resync': (e: { serverId: string; reason: ResyncReason; fromMemory: boolean }) => void;
  /** An agent's heartbeat, with the metrics it reported (feed them to the scheduler). */
  'router:agent:heartbeat': (e: { serverId: string; metrics: AgentMetrics; at: Date }) => void;
  /** Events went out to agents in one flush. */
  'router:delivered': (e: { events: number; agents: number }) => void;
  /** A batch of acknowledgements was applied to the store. */
  'router:acks:applied': (e: { count: number; failed: number }) => void;
  /** The input was switched while running. */
  'router:input:switched': (e: { from: string; to: string; caughtUp: number }) => void;
  /** The input failed and is retrying (the router keeps serving agents). */
  'router:input:error': (e: { input: string; error: Error }) => void;
  /** The router closed. */
  'router:closed': (e: Record<string, never>) => void;
}

/** A point-in-time view of a router's counters. */
export interface RouterStats {
  /** This router's id. */
  readonly routerId: string;
  /** The region served. */
  readonly region: string;
  /** The current input's kind. */
  readonly input: string;
  /** The feed position every dispatched change is at or before. */
  readonly cursor: number;
  /** Agents served right now. */
  readonly agentsConnected: number;
  /** Events sent to agents. */
  readonly delivered: number;
  /** Frame bytes sent to agents. */
  readonly bytesSent: number;
  /** Acknowledgements: received, applied (the store accepted), failed (conflicts, errors), refused (not the agent's event, or busy). */
  readonly acks: { received: number; applied: number; failed: number; refused: number };
  /** Connections ended, by reason (rejections included). */
  readonly disconnects: Readonly<Partial<Record<DisconnectReason, number>>>;
  /** Database queries issued, by kind, and in total. */
  readonly dbQueries: Readonly<Record<RouterQueryKind | 'total', number>>;
  /** Resyncs served, and how many of them needed the store. */
  readonly resyncs: { total: number; fromStore: number };
  /** Changes dropped as duplicates (same or older version than already seen). */
  readonly duplicatesDropped: number;
  /** Changes held for resume, the oldest resumable cursor, and the characters of encoded changes held. */
  readonly history: { size: number; oldest: number; bytes: number };
  /** Open events held in memory, whether that is all of the region's, and the characters of encoded events held. */
  readonly openEvents: { size: number; complete: boolean; bytes: number };
  /** Acknowledgements queued or being applied, and their bytes. */
  readonly pendingAcks: { count: number; bytes: number };
}
