/**
 * The fleet inventory: servers with capacity, allocations and a generation, and the inputs that
 * reserve and release capacity on them.
 *
 * @module
 */

/** Every state a server can be in. Only `active` servers receive new placements. */
export const SERVER_STATES = ['active', 'draining', 'down'] as const;

/** `active` takes work; `draining` keeps its work but takes no new placements; `down` is gone. */
export type ServerState = (typeof SERVER_STATES)[number];

/**
 * Amounts per resource, e.g. `{ cpu: 64_000, memory: 262_144 }`. Amounts are non-negative integers:
 * pick integer units (millicores, MiB) so sums stay exact in every backend.
 */
export type Resources = Readonly<Record<string, number>>;

/** One server (hypervisor, node) as the fleet holds it. */
export interface Server {
  /** Unique id. */
  readonly id: string;
  /** The region it serves. */
  readonly region: string;
  /** Whether it takes new placements. */
  readonly state: ServerState;
  /** Physical capacity per resource (before overcommit). */
  readonly capacity: Resources;
  /** Sum of the reservations held on it, per resource. */
  readonly allocated: Resources;
  /** Free-form labels, e.g. `{ rack: 'r12', gpu: 'a100' }`. */
  readonly labels: Readonly<Record<string, string>>;
  /** How many reservations of each anti-affinity group it holds. */
  readonly groups: Readonly<Record<string, number>>;
  /** Bumped by every change; the compare-and-set token of {@link ReserveInput}. */
  readonly generation: number;
  /** When it last changed. */
  readonly updatedAt: Date;
}

/** A server to register or update. Allocations are kept; the generation is bumped. */
export interface ServerInput {
  /** Unique id. */
  id: string;
  /** Its region. */
  region: string;
  /** Physical capacity per resource. */
  capacity: Resources;
  /** Labels (default none). */
  labels?: Readonly<Record<string, string>>;
  /** State (default `active`). */
  state?: ServerState;
}

/** Reserve capacity on a server, compare-and-set on its generation. */
export interface ReserveInput {
  /** Unique key of the reservation (the scheduler uses the event id). A key already held elsewhere moves. */
  key: string;
  /** The chosen server. */
  serverId: string;
  /** The generation the decision was based on; a mismatch loses the reservation. */
  generation: number;
  /** What to reserve, per resource. */
  demand: Resources;
  /** Overcommit ratio per resource (default 1 for each): usable = capacity × ratio. */
  ratios?: Resources;
  /** The anti-affinity group the reservation belongs to, if any. */
  group?: string | null;
  /**
   * A fencing token: which decision made the reservation, increasing with each newer decision for
   * the key (the scheduler passes the claim count of the event it places). A key held with a
   * higher fence is neither moved nor released by this input (outcome `fenced`): a scheduler that
   * lost its lease cannot take a reservation from the one that claimed the event after it.
   * A released key stays fenced too: once released with fence `f` (see {@link ReleaseInput.fence}),
   * an input with a fence of `f` or lower is refused as `fenced`, so a late decision cannot
   * reserve again for an event that has already finished. Without a fence, a held key always moves.
   */
  fence?: number | null;
}

/**
 * Release a reservation; with a `fence`, only when it is held with that fence or a lower one.
 * A release retires the key up to the higher of its fence and the released reservation's: later
 * reservations of the key with a fence at or below it are refused as `fenced` (until
 * {@link Fleet.pruneReleased} forgets the key).
 */
export interface ReleaseInput {
  /** The reservation key. */
  key: string;
  /**
   * The releasing decision's fencing token (see {@link ReserveInput.fence}); none releases
   * unconditionally. Given, it retires the key up to it even when nothing is held.
   */
  fence?: number | null;
}

/**
 * Why a reservation was refused. `fenced`: the key is held by a newer decision, or was released by
 * one at least as new (see {@link ReserveInput.fence}).
 */
export type ReserveFailure = 'conflict' | 'capacity' | 'state' | 'not_found' | 'fenced';

/** The outcome of one reservation. On failure, `server` is its current state (null if unknown). */
export type ReserveOutcome =
  | { readonly ok: true; readonly key: string; readonly serverId: string; readonly generation: number }
  | {
      readonly ok: false;
      readonly key: string;
      readonly serverId: string;
      readonly reason: ReserveFailure;
      readonly server: Server | null;
    };

/** The outcome of one release. `server` is the server's state after the release. */
export type ReleaseOutcome =
  | { readonly ok: true; readonly key: string; readonly server: Server }
  | { readonly ok: false; readonly key: string; readonly reason: 'not_found' | 'fenced' };

/** A reservation held on a server. */
export interface Allocation {
  /** The reservation key. */
  readonly key: string;
  /** Where it is held. */
  readonly serverId: string;
  /** What it holds, per resource. */
  readonly demand: Resources;
  /** Its anti-affinity group, or null. */
  readonly group: string | null;
  /** The fencing token it was made with, or null (see {@link ReserveInput.fence}). */
  readonly fence: number | null;
  /** When it was made. */
  readonly createdAt: Date;
}

/** Which servers to list. */
export interface ServerQuery {
  /** Only this region. */
  region?: string;
  /** Only these states. */
  state?: ServerState | readonly ServerState[];
  /** Only servers changed at or after this instant (for incremental refreshes). */
  updatedSince?: Date;
}

/** Which allocations to list. */
export interface AllocationQuery {
  /** Only on this server. */
  serverId?: string;
  /** Only these keys. */
  keys?: readonly string[];
}

/**
 * True when a reservation held with fence `held` must not be moved or released by a decision with
 * fence `fence`: both are set and the held one is newer.
 */
export function isFenced(held: number | null | undefined, fence: number | null | undefined): boolean {
  return fence !== null && fence !== undefined && held !== null && held !== undefined && held > fence;
}

/**
 * True when a key released up to fence `retired` must not be reserved again by a decision with
 * fence `fence`: both are set and the decision is not newer than the release.
 */
export function isRetired(retired: number | null | undefined, fence: number | null | undefined): boolean {
  return (
    fence !== null && fence !== undefined && retired !== null && retired !== undefined && retired >= fence
  );
}

/** The fence a release retires its key up to: the higher of its own and the released reservation's. */
export function retiredFence(
  released: number | null | undefined,
  fence: number | null | undefined,
): number | null {
  const known = [released, fence].filter((f): f is number => f !== null && f !== undefined);
  return known.length > 0 ? Math.max(...known) : null;
}
