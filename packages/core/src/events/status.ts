/**
 * The event lifecycle: statuses and the forward-only transition table.
 *
 * @module
 */

/** Every status an event can have. */
export const EVENT_STATUSES = [
  'pending',
  'placed',
  'claimed',
  'running',
  'done',
  'failed',
  'cancelled',
] as const;

/** Where an event is in its life: pending → placed → claimed → running → done | failed, or cancelled. */
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Statuses an event never leaves. */
export const TERMINAL_STATUSES: readonly EventStatus[] = ['done', 'failed', 'cancelled'];

/** Statuses in which an event still needs work. */
export const ACTIVE_STATUSES: readonly EventStatus[] = ['pending', 'placed', 'claimed', 'running'];

/**
 * The legal transitions. Everything moves forward; a terminal status has no exit.
 * `claimed` and `running` may be entered again only through a new claim after a lease expires.
 */
export const TRANSITIONS: Readonly<Record<EventStatus, readonly EventStatus[]>> = {
  pending: ['placed', 'failed', 'cancelled'],
  placed: ['claimed', 'running', 'done', 'failed', 'cancelled'],
  claimed: ['running', 'done', 'failed', 'cancelled'],
  running: ['done', 'failed', 'cancelled'],
  done: [],
  failed: [],
  cancelled: [],
};

/** True when the status is done, failed or cancelled. */
export function isTerminal(status: EventStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** True when `from → to` is in the lifecycle table. */
export function canTransition(from: EventStatus, to: EventStatus): boolean {
  return TRANSITIONS[from].includes(to);
}
