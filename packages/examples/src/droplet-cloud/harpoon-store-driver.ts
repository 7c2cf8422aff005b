/**
 * An EventStoreDriver whose storage is Harpoon, reached over HTTP. The Scheduler takes an
 * `EventStore`; with this driver a scheduler process gets one without a database connection of
 * its own, so Harpoon stays the only component that touches the events table.
 */
import {
  type AppendRecord,
  type ClaimInput,
  type DriverQuery,
  type EventPage,
  type EventStoreDriver,
  type FeedFilter,
  type FeedPage,
  type HarpoonApi,
  type StoredEvent,
  type TransitionInput,
  type TransitionOutcome,
  UnsupportedError,
} from '@ctlplane/core';

/** Harpoon (in process or a `HarpoonClient`) as the storage of an `EventStore`. */
export class HarpoonStoreDriver implements EventStoreDriver {
  readonly name = 'harpoon';
  readonly capabilities = { multiProcess: true, durable: true } as const;
  readonly #harpoon: HarpoonApi;

  constructor(harpoon: HarpoonApi) {
    this.#harpoon = harpoon;
  }

  async append(records: readonly AppendRecord[]): Promise<StoredEvent[]> {
    return this.#harpoon.createMany(
      records.map(({ type, payload, region, serverId, idempotencyKey }) => ({
        type,
        payload,
        region,
        serverId,
        idempotencyKey,
      })),
    );
  }

  get(id: number): Promise<StoredEvent | null> {
    return this.#harpoon.get(id);
  }

  query(q: DriverQuery): Promise<EventPage> {
    return this.#harpoon.query({
      ...(q.statuses.length > 0 ? { status: q.statuses } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(q.serverId ? { serverId: q.serverId } : {}),
      ...(q.region ? { region: q.region } : {}),
      limit: q.limit,
      cursor: q.afterId > 0 ? String(q.afterId) : null,
    });
  }

  transition(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]> {
    return this.#harpoon.transitionMany(inputs);
  }

  claim(input: ClaimInput): Promise<StoredEvent[]> {
    return this.#harpoon.claim(input);
  }

  renew(id: number, owner: string, leaseMs: number): Promise<StoredEvent> {
    return this.#harpoon.renew(id, owner, leaseMs);
  }

  release(id: number, owner: string): Promise<StoredEvent> {
    return this.#harpoon.release(id, owner);
  }

  readFeed(cursor: number, limit: number, filter: FeedFilter): Promise<FeedPage> {
    return this.#harpoon.readFeed(cursor, { ...filter, limit });
  }

  head(): Promise<number> {
    return this.#harpoon.head();
  }

  async prune(): Promise<number> {
    throw new UnsupportedError('prune runs in Harpoon (its prune option), not through its API');
  }

  /** Commits happen in the Harpoon process; followers poll. */
  onCommit(): () => void {
    return () => {};
  }

  async close(): Promise<void> {}
}
