/**
 * The port every fleet backend implements. Inputs arrive validated by `Fleet`; a driver owns
 * storage and atomicity, nothing else.
 *
 * @module
 */
import type {
  Allocation,
  AllocationQuery,
  ReleaseInput,
  ReleaseOutcome,
  ReserveInput,
  ReserveOutcome,
  Server,
  ServerInput,
  ServerQuery,
  ServerState,
} from './model.js';

/** What a fleet backend can do beyond the common contract; gates backend-only tests. */
export interface FleetCapabilities {
  /** Several processes may share the fleet. */
  readonly multiProcess: boolean;
  /** Data survives a restart of the process. */
  readonly durable: boolean;
}

/** A validated server to register: defaults applied. */
export type ServerRecord = Required<ServerInput>;

/** The storage backend behind a `Fleet`. */
export interface FleetDriver {
  /** Short backend name for logs, e.g. `memory`, `mysql`. */
  readonly name: string;
  /** What this backend can do. */
  readonly capabilities: FleetCapabilities;
  /** Register or update servers; allocations are kept, generations bumped. Returns their states. */
  upsert(servers: readonly ServerRecord[]): Promise<Server[]>;
  /** The server with this id, or null. */
  get(id: string): Promise<Server | null>;
  /** Servers matching the query, ordered by id. */
  list(query: ServerQuery): Promise<Server[]>;
  /** Change a server's state (bumps its generation). @throws NotFoundError for an unknown id */
  setState(id: string, state: ServerState): Promise<Server>;
  /**
   * Apply each reservation, compare-and-set on the server's generation and checked against
   * capacity × ratio. Inputs apply in order; inputs for the same server form a chain: once one of
   * them fails, the later ones for that server fail as `conflict` (they were decided assuming it).
   * A key already held (on any server) is released when, and only when, its input applies, in the
   * same transaction; a key held with a higher fence than the input's (`isFenced`), or released up
   * to the input's fence or a higher one (`isRetired`), is refused as `fenced`.
   */
  reserve(inputs: readonly ReserveInput[]): Promise<ReserveOutcome[]>;
  /**
   * Give reservations back (bumps each server's generation); a higher held fence refuses
   * (`fenced`). Atomically with it, retire each key up to `retiredFence(held fence, input fence)`
   * when that is not null (raising, never lowering, an earlier retirement), found or not.
   */
  release(inputs: readonly ReleaseInput[]): Promise<ReleaseOutcome[]>;
  /**
   * Forget up to `limit` of the per-key fence records last changed before `before`: the
   * retirements of released keys, and any record a backend keeps per reserved key (MySQL keeps one
   * row per key it has reserved or released, to lock on); returns how many were forgotten.
   */
  pruneReleased(before: Date, limit: number): Promise<number>;
  /** Reservations matching the query, ordered by key. */
  allocations(query: AllocationQuery): Promise<Allocation[]>;
  /** Release every resource. Called once. */
  close(): Promise<void>;
}
