/**
 * The capacity arithmetic every fleet backend and the scheduler share, so the rules cannot drift
 * between the place that decides and the place that commits.
 *
 * @module
 */
import type { ReserveFailure, ReserveInput, Resources, Server } from './model.js';

/** The part of a server's state a reservation is checked against. */
export type ReservableState = Pick<Server, 'generation' | 'state' | 'capacity' | 'allocated'>;

/** Usable amount of `resource` on a server: capacity × overcommit ratio (ratio defaults to 1). */
export function usableCapacity(capacity: Resources, ratios: Resources | undefined, resource: string): number {
  return (capacity[resource] ?? 0) * (ratios?.[resource] ?? 1);
}

/** The first resource of `demand` that does not fit on `server`, or null when all fit. */
export function missingResource(
  server: ReservableState,
  demand: Resources,
  ratios?: Resources,
): string | null {
  for (const resource in demand) {
    const amount = demand[resource]!;
    if (amount <= 0) continue;
    const free = usableCapacity(server.capacity, ratios, resource) - (server.allocated[resource] ?? 0);
    if (free < amount) return resource;
  }
  return null;
}

/**
 * Decide a reservation against the server's current state: null when it may be applied, or why not.
 * The order matters: a stale generation is reported as `conflict` even when it would not fit either,
 * so the caller refreshes before it concludes anything.
 */
export function checkReservation(
  server: ReservableState | null | undefined,
  input: ReserveInput,
): ReserveFailure | null {
  if (!server) return 'not_found';
  if (server.generation !== input.generation) return 'conflict';
  if (server.state !== 'active') return 'state';
  if (missingResource(server, input.demand, input.ratios) !== null) return 'capacity';
  return null;
}
