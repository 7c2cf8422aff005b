/**
 * The part of an event store the scheduler uses. `EventStore`, `Harpoon` and `HarpoonClient` all
 * satisfy it, so a scheduler in its own process reaches the events through Harpoon's HTTP API with
 * no database connection of its own.
 *
 * @module
 */
import type {
  ClaimInput,
  EventPage,
  EventQuery,
  TransitionInput,
  TransitionOutcome,
} from '../events/model.js';
import type { EventTypeMap, EventTypeRegistry } from '../events/registry.js';
import type { EventOf } from '../store/event-store-types.js';

/**
 * What a {@link Scheduler} reads from and writes to: a subset of {@link EventStore}, implemented by
 * {@link EventStore}, {@link Harpoon} and {@link HarpoonClient}.
 */
export interface SchedulerStore<M extends EventTypeMap = EventTypeMap> {
  /** Claim pending events with a lease (the intake). */
  claim(input: ClaimInput): Promise<EventOf<M>[]>;
  /** Query events (to tell whether anything is still pending, for `drain`). */
  query(query: EventQuery): Promise<EventPage<EventOf<M>>>;
  /** One event by id (to read back a placement whose outcome is unknown). */
  get(id: number): Promise<EventOf<M> | null>;
  /** Record placements and failures, each compare-and-set on its own. */
  transitionMany(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]>;
  /** Extend the lease of an event waiting for a retry. */
  renew(id: number, owner: string, leaseMs: number): Promise<EventOf<M>>;
  /** Hand an event back at once (on stop, or when its placement was refused). */
  release(id: number, owner: string): Promise<EventOf<M>>;
  /**
   * Optional: the registered event types. An `EventStore` and an in-process `Harpoon` have them,
   * and TypeScript infers the scheduler's event types from them; over HTTP, name the types:
   * `new Scheduler<MyTypes>({ store: harpoonClient, … })`.
   */
  readonly types?: EventTypeRegistry<M>;
  /**
   * Optional: call `listener` after each append made through this object in this process, and
   * return an unsubscribe. With it the scheduler claims new events at once; without it (as over
   * HTTP) it finds them within `idlePollMs`.
   */
  onAppended?(listener: () => void): () => void;
}
