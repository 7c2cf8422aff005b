/**
 * The MySQL/MariaDB EventStore backend on mysql2's promise API and one bounded pool.
 *
 * @module
 */
import type {
  ClaimInput,
  DriverCapabilities,
  EventPage,
  FeedFilter,
  FeedPage,
  StoredEvent,
  TransitionInput,
  TransitionOutcome,
} from '@ctlplane/core';
import {
  type AppendRecord,
  type DriverQuery,
  type EventStoreDriver,
  parseOrThrow,
} from '@ctlplane/core/driver';
import type { Pool } from 'mysql2/promise';
import { z } from 'zod';
import { migrate } from '../migrate.js';
import { type MysqlOptions, type ParsedMysqlOptions, parseMysqlOptions } from '../options.js';
import { checkServerVersion, type ManagedPool, managedPool } from '../pool.js';
import { appendEvents } from './sql/append.js';
import { claimEvents } from './sql/claim.js';
import type { SqlContext } from './sql/context.js';
import { feedHead, readFeed } from './sql/feed.js';
import { getEvent } from './sql/get.js';
import { changeLease } from './sql/lease.js';
import { pruneEvents } from './sql/prune.js';
import { queryEvents } from './sql/query.js';
import { transitionEvents } from './sql/transition.js';

const WRITE_CONCURRENCY = z
  .number()
  .int()
  .min(1, 'must be at least 1')
  .max(256, 'must be at most 256')
  .optional();

/**
 * The default `writeConcurrency`: 4, and at least one connection of the pool left for reads
 * (feed reads, long-polls, gets) while every write slot is busy; never below 1.
 */
function defaultWriteConcurrency(poolSize: number): number {
  return Math.max(1, Math.min(4, poolSize - 1));
}

/** Options of {@link MysqlEventStoreDriver}. */
export interface MysqlEventStoreOptions extends MysqlOptions {
  /** Apply pending migrations before the first call (default false: run `ctlplane migrate`). */
  migrate?: boolean;
  /**
   * Write calls (append, transition, claim) this driver runs at once (1–256; default
   * `min(4, poolSize - 1)`, at least 1: 3 with the default pool of 4, so that reads always find a
   * connection); the `EventStore` queues more in the process (up to its `maxQueuedWrites`). Writes
   * take turns on the feed counter, so a few in flight keep it busy, and more only wait inside
   * MariaDB, where waiting costs it CPU: claim + complete with 32 workers ran at 6,890 events/s
   * with 4 at a time and 7,487 with 8, but 5,948 with 16 and 5,585 with 1, one run on 2 cores
   * (`npm run bench -- store-write-concurrency`, docs/benchmarks.md). Keep it below `poolSize`.
   * With `pool` instead of `url`, `poolSize` (default 4) still sets this default: give either to
   * match the pool's size.
   */
  writeConcurrency?: number;
  /**
   * @internal Test hook, awaited in every write transaction after the row locks it may wait for
   * and before it takes the feed counter (holding no change yet).
   */
  beforeWrite?: (operation: string) => Promise<void>;
  /**
   * @internal Test hook, awaited in every write transaction after its writes and before COMMIT:
   * its changes are numbered but uncommitted, and it holds the feed counter meanwhile.
   */
  beforeCommit?: (operation: string) => Promise<void>;
}

/**
 * An EventStore backend on MariaDB ≥ 10.6 (tested on 10.11; MySQL ≥ 8.0 is accepted but untested).
 * Several processes may share it.
 *
 * @example
 * ```ts
 * import { EventStore } from '@ctlplane/core';
 * import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
 *
 * const driver = new MysqlEventStoreDriver({ url: 'mysql://root@127.0.0.1:3306/test', poolSize: 4, migrate: true });
 * const store = new EventStore({ driver, types });
 * ```
 */
export class MysqlEventStoreDriver implements EventStoreDriver {
  /** Backend name. */
  readonly name = 'mysql';
  /** Shared by many processes; durable; writes `writeConcurrency` at a time. */
  readonly capabilities: DriverCapabilities;
  readonly #o: ParsedMysqlOptions;
  readonly #pool: ManagedPool;
  readonly #ready: Promise<void>;
  readonly #listeners = new Set<() => void>();
  readonly #ctx: SqlContext;

  /** @param options - connection, table prefix and pool size; validated here */
  constructor(options: MysqlEventStoreOptions) {
    const { migrate: autoMigrate = false, beforeWrite, beforeCommit, writeConcurrency, ...rest } = options;
    const o = parseMysqlOptions(rest, 'MysqlEventStoreDriver options');
    this.capabilities = Object.freeze({
      multiProcess: true,
      durable: true,
      writeConcurrency:
        parseOrThrow(WRITE_CONCURRENCY, writeConcurrency, 'MysqlEventStoreDriver options.writeConcurrency') ??
        defaultWriteConcurrency(o.poolSize),
    });
    const mp = managedPool(o);
    this.#o = o;
    this.#pool = mp;
    this.#ctx = { pool: mp.pool, prefix: o.tablePrefix, hooks: { beforeWrite, beforeCommit } };
    this.#ready = (async () => {
      await checkServerVersion(mp.pool);
      if (autoMigrate) await migrate({ pool: mp.pool, tablePrefix: o.tablePrefix, logger: o.logger });
    })();
    // A failed start is reported by every call; never as an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /** The validated table prefix. */
  get tablePrefix(): string {
    return this.#o.tablePrefix;
  }

  /**
   * The mysql2 pool, to share with other MySQL backends (e.g. the fleet). With several `urls` it
   * is the failover pool over the cluster's nodes: it offers `getConnection`, `query`, `execute`
   * and `end` (what the backends use), always on the current writer, and nothing else of `Pool`.
   */
  get pool(): Pool {
    return this.#pool.pool;
  }

  /** Connections the pool holds open now (never more than `poolSize`). */
  connections(): number {
    return this.#pool.connections();
  }

  /** Resolves once the server version was checked (and migrations applied, if asked). */
  ready(): Promise<void> {
    return this.#ready;
  }

  async append(records: readonly AppendRecord[]): Promise<StoredEvent[]> {
    await this.#ready;
    const out = await appendEvents(this.#ctx, records);
    this.#notify();
    return out;
  }

  async get(id: number): Promise<StoredEvent | null> {
    await this.#ready;
    return getEvent(this.#pool.pool, this.#o.tablePrefix, id);
  }

  async query(query: DriverQuery): Promise<EventPage> {
    await this.#ready;
    return queryEvents(this.#pool.pool, this.#o.tablePrefix, query);
  }

  async transition(inputs: readonly TransitionInput[]): Promise<TransitionOutcome[]> {
    await this.#ready;
    const out = await transitionEvents(this.#ctx, inputs);
    this.#notify();
    return out;
  }

  async claim(input: ClaimInput): Promise<StoredEvent[]> {
    await this.#ready;
    const out = await claimEvents(this.#ctx, input);
    if (out.length > 0) this.#notify();
    return out;
  }

  async renew(id: number, owner: string, leaseMs: number): Promise<StoredEvent> {
    await this.#ready;
    return changeLease(this.#pool.pool, this.#o.tablePrefix, id, owner, leaseMs);
  }

  async release(id: number, owner: string): Promise<StoredEvent> {
    await this.#ready;
    return changeLease(this.#pool.pool, this.#o.tablePrefix, id, owner, 0);
  }

  async readFeed(cursor: number, limit: number, filter: FeedFilter): Promise<FeedPage> {
    await this.#ready;
    return readFeed(this.#pool.pool, this.#o.tablePrefix, cursor, limit, filter);
  }

  async head(): Promise<number> {
    await this.#ready;
    return feedHead(this.#pool.pool, this.#o.tablePrefix);
  }

  async prune(before: Date, limit: number): Promise<number> {
    await this.#ready;
    return pruneEvents(this.#pool.pool, this.#o.tablePrefix, before, limit);
  }

  onCommit(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#ready.catch(() => {});
    await this.#pool.close();
  }

  #notify(): void {
    for (const l of this.#listeners) l();
  }
}
