/**
 * The Agent's typed events.
 *
 * @module
 */
import type { StoredEvent } from '../../events/model.js';
import type { DisconnectReason } from '../close-reasons.js';
import type { AckStatus, AgentMetrics, ResyncReason } from '../protocol.js';

/** Events an {@link Agent} emits; one payload object each. */
export interface AgentEvents {
  /** The router accepted the agent. `resumed` is false when it must re-read its open events. */
  'agent:connected': (e: { url: string; routerId: string; resumed: boolean }) => void;
  /** The connection ended; the agent reconnects unless it was refused for good or stopped. */
  'agent:disconnected': (e: { url: string; reason: DisconnectReason; message: string }) => void;
  /** The router asked the agent to re-read its open events (fresh start or cursor too old). */
  'agent:resync': (e: { reason: ResyncReason }) => void;
  /** An event arrived that starts work. */
  'agent:event': (e: { event: StoredEvent; redelivery: boolean }) => void;
  /** An event arrived again (same or older version): recognised and skipped. */
  'agent:redelivery': (e: { id: number; version: number }) => void;
  /** A handler finished. */
  'agent:handled': (e: { id: number; status: 'done' | 'failed'; error?: string }) => void;
  /** The router answered an acknowledgement. */
  'agent:acked': (e: { id: number; status: AckStatus; ok: boolean; code?: string }) => void;
  /** A heartbeat went out with these metrics. */
  'agent:heartbeat': (e: { metrics: AgentMetrics }) => void;
  /** The router refused the agent's credentials and the token is fixed: the agent stopped. */
  'agent:rejected': (e: { reason: DisconnectReason; message: string }) => void;
  /** Something failed that the agent recovers from (a handler-independent error). */
  'agent:error': (e: { error: Error }) => void;
  /** The agent stopped. */
  'agent:stopped': (e: Record<string, never>) => void;
}
