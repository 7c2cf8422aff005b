/**
 * The scheduler's typed events: one payload object each.
 *
 * @module
 */
import type { ReserveFailure } from '../../fleet/model.js';
import type { Explanation } from '../pipeline/explain.js';

/** Events a {@link Scheduler} emits. */
export interface SchedulerEvents {
  /** An event was placed: its reservation is held and the store says `placed`. */
  'scheduler:placed': (e: {
    eventId: number;
    serverId: string;
    score: number;
    attempt: number;
    conflicts: number;
    latencyMs: number;
  }) => void;
  /** An event fit nowhere (or lost too many races) and will be tried again after `delayMs`. */
  'scheduler:retried': (e: { eventId: number; attempt: number; delayMs: number; reason: string }) => void;
  /** An event was moved to `failed` after its last try; `explanation` says why nothing fit. */
  'scheduler:failed': (e: { eventId: number; reason: string; explanation: Explanation | null }) => void;
  /**
   * A reservation was lost (`conflict`: another instance changed the server first; `capacity` or
   * `state`: the view was stale) or the store refused the placement (`store`: the event changed;
   * the reservation was released).
   */
  'scheduler:conflict': (e: { eventId: number; serverId: string; reason: ReserveFailure | 'store' }) => void;
  /** Something failed outside a single placement (a claim, a refresh). The loop keeps going. */
  'scheduler:error': (e: { operation: string; error: Error }) => void;
}
