/**
 * The Fleet every component talks to: validation, retries of transient failures and close
 * semantics, once, around any {@link FleetDriver}.
 *
 * @module
 */
import type { z } from 'zod';
import { checkBatch, DriverRuntime } from '../driver/driver-runtime.js';
import { ValidationError } from '../errors.js';
import { type Logger, noopLogger } from '../logger.js';
import { nameSchema, parseOrThrow } from '../validation.js';
import type { FleetCapabilities, FleetDriver } from './driver.js';
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
import {
  allocationQuerySchema,
  fleetOptionsSchema,
  pruneReleasedSchema,
  releaseInputSchema,
  reserveInputSchema,
  serverInputSchema,
  serverQuerySchema,
  serverStateSchema,
} from './schemas.js';

/** Options of {@link Fleet}. */
export interface FleetOptions {
  /** The backend. */
  driver: FleetDriver;
  /** Logger (default: no-op). */
  logger?: Logger;
  /** Retries of transient backend failures (default 5). */
  retries?: number;
  /** Largest batch of servers, reservations or releases per call (default 1,000). */
  maxBatchSize?: number;
}

/**
 * The server inventory: capacity, allocations and a generation per server. Reserving is
 * compare-and-set on the generation, so two schedulers never overcommit a server.
 *
 * @example
 * ```ts
 * import { Fleet } from '@ctlplane/core';
 * import { MemoryFleetDriver } from '@ctlplane/adapters/memory';
 *
 * const fleet = new Fleet({ driver: new MemoryFleetDriver() });
 * const [server] = await fleet.upsert([{ id: 'hv1', region: 'nyc1', capacity: { cpu: 64, memory: 256 } }]);
 * const [outcome] = await fleet.reserve([
 *   { key: 'event:1', serverId: 'hv1', generation: server!.generation, demand: { cpu: 2, memory: 4 } },
 * ]);
 * ```
 */
export class Fleet {
  readonly #driver: FleetDriver;
  readonly #log: Logger;
  readonly #opts: z.output<typeof fleetOptionsSchema>;
  readonly #runtime: DriverRuntime;

  /** @param options - driver and limits; validated here */
  constructor(options: FleetOptions) {
    const { driver, logger, ...rest } = options;
    this.#opts = Object.freeze(parseOrThrow(fleetOptionsSchema, rest, 'Fleet options'));
    this.#driver = driver;
    this.#log = (logger ?? noopLogger).child(`fleet:${driver.name}`);
    this.#runtime = new DriverRuntime('Fleet', driver.name, { retries: this.#opts.retries, log: this.#log });
  }

  /** Backend name. */
  get name(): string {
    return this.#driver.name;
  }

  /** What the backend can do. */
  get capabilities(): FleetCapabilities {
    return this.#driver.capabilities;
  }

  /** Register or update servers. Allocations are kept; each server's generation is bumped. */
  async upsert(servers: readonly ServerInput[]): Promise<Server[]> {
    this.#open();
    this.#checkBatch(servers, 'servers');
    const records = servers.map((s, i) => parseOrThrow(serverInputSchema, s, `server [${i}]`));
    return this.#run('upsert', () => this.#driver.upsert(records));
  }

  /** The server with this id, or null. */
  async get(id: string): Promise<Server | null> {
    this.#open();
    parseOrThrow(nameSchema, id, 'server id');
    return this.#run('get', () => this.#driver.get(id));
  }

  /** Servers matching the query, ordered by id. */
  async list(query: ServerQuery = {}): Promise<Server[]> {
    this.#open();
    const q = parseOrThrow(serverQuerySchema, query, 'server query') as ServerQuery;
    return this.#run('list', () => this.#driver.list(q));
  }

  /** Change a server's state. @throws NotFoundError for an unknown id */
  async setState(id: string, state: ServerState): Promise<Server> {
    this.#open();
    parseOrThrow(nameSchema, id, 'server id');
    parseOrThrow(serverStateSchema, state, 'state');
    return this.#run('setState', () => this.#driver.setState(id, state));
  }

  /**
   * Reserve capacity, each input compare-and-set on its server's generation. Inputs for one server
   * form a chain: after the first failure the rest of that server's inputs fail as `conflict`.
   */
  async reserve(inputs: readonly ReserveInput[]): Promise<ReserveOutcome[]> {
    this.#open();
    this.#checkBatch(inputs, 'reservations');
    const parsed = inputs.map((r, i) => parseOrThrow(reserveInputSchema, r, `reservation [${i}]`));
    if (new Set(parsed.map((r) => r.key)).size !== parsed.length) {
      const message = 'each key may appear once per call';
      throw new ValidationError(`reservations: ${message}`, [{ path: 'key', message }]);
    }
    return this.#run('reserve', () => this.#driver.reserve(parsed));
  }

  /**
   * @internal Reserve without re-validating: for the scheduler, whose inputs are built from
   * already-validated parts. Everyone else calls {@link Fleet.reserve}.
   */
  reserveChecked(inputs: readonly ReserveInput[]): Promise<ReserveOutcome[]> {
    this.#open();
    return this.#run('reserve', () => this.#driver.reserve(inputs));
  }

  /**
   * Release reservations by key (or key and fence: kept when held by a newer decision, reported
   * `fenced`); an unknown key is reported, not thrown. A release retires its key up to the higher
   * of its fence and the released reservation's (see {@link ReleaseInput}).
   */
  async release(keys: readonly (string | ReleaseInput)[]): Promise<ReleaseOutcome[]> {
    this.#open();
    this.#checkBatch(keys, 'keys');
    const inputs = keys.map((k, i): ReleaseInput => {
      const parsed = parseOrThrow(releaseInputSchema, k, `key [${i}]`);
      return typeof parsed === 'string' ? { key: parsed } : parsed;
    });
    return this.#run('release', () => this.#driver.release(inputs));
  }

  /**
   * Forget the fence records of keys last reserved or released more than `retentionMs` ago (at most
   * `limit` per call; call again while it returns `limit`), so they do not grow forever: on MySQL
   * there is one row per key ever reserved. A decision older than the retention that still
   * reserves a forgotten key is no longer refused: keep the retention well above any lease
   * (default: a day).
   * @returns how many records were forgotten
   */
  async pruneReleased(retentionMs = 86_400_000, limit = 10_000): Promise<number> {
    this.#open();
    const o = parseOrThrow(pruneReleasedSchema, { retentionMs, limit }, 'pruneReleased');
    const before = new Date(Date.now() - o.retentionMs);
    const n = await this.#run('pruneReleased', () => this.#driver.pruneReleased(before, o.limit));
    if (n > 0) this.#log.info('forgot released keys', { count: n, before: before.toISOString() });
    return n;
  }

  /** Reservations matching the query, ordered by key. */
  async allocations(query: AllocationQuery = {}): Promise<Allocation[]> {
    this.#open();
    const q = parseOrThrow(allocationQuerySchema, query, 'allocation query');
    return this.#run('allocations', () => this.#driver.allocations(q));
  }

  /** Close the fleet and its backend. Idempotent; later calls get a `ClosedError`. */
  close(): Promise<void> {
    return this.#runtime.close(() => this.#driver.close());
  }

  #open(): void {
    this.#runtime.assertOpen();
  }

  #checkBatch(items: readonly unknown[], what: string): void {
    checkBatch(items, what, { min: 0, max: this.#opts.maxBatchSize, noun: 'items' });
  }

  #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.#runtime.run(operation, fn);
  }
}
