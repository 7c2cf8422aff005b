/**
 * The MySQL/MariaDB fleet backend: servers and their reservations in a few tables, reservations
 * checked by the database in one conditional UPDATE per server.
 *
 * @module
 */
import {
  type Allocation,
  type AllocationQuery,
  NotFoundError,
  type ReleaseInput,
  type ReleaseOutcome,
  type ReserveInput,
  type ReserveOutcome,
  type Server,
  type ServerQuery,
  type ServerState,
} from '@ctlplane/core';
import type { FleetDriver, ServerRecord } from '@ctlplane/core/driver';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { type MysqlOptions, parseMysqlOptions } from '../options.js';
import { type ManagedPool, managedPool } from '../pool.js';
import { runQuery } from '../transaction.js';
import { conditions } from '../where.js';
import { FLEET_SLOTS } from './migrations.js';
import { ALLOCATION_COLUMNS, byKey, fleetTables, SERVER_COLUMNS, toAllocation, toServer } from './rows.js';
import { FleetSlots } from './slots.js';
import type { FleetSqlContext } from './sql/context.js';
import { releaseSql } from './sql/release.js';
import { reserveSql } from './sql/reserve.js';

/** Options of {@link MysqlFleetDriver}: the shared MySQL connection options. */
export type MysqlFleetOptions = MysqlOptions;

const capColumns = Array.from({ length: FLEET_SLOTS }, (_, i) => `cap${i}`);

/**
 * A fleet backend on MariaDB ≥ 10.6 (MySQL ≥ 8.0 accepted, untested), shared by any number of scheduler processes.
 * Its tables come from `FLEET_MIGRATIONS`, applied by `migrate()`. A fleet names at most 10
 * distinct resources. A pool you pass in is shared (e.g. the event store's) and never closed here.
 *
 * @example
 * ```ts
 * import { Fleet } from '@ctlplane/core';
 * import { MysqlFleetDriver, migrate } from '@ctlplane/adapters/mysql';
 *
 * await migrate({ url: 'mysql://root@127.0.0.1:3306/test' });
 * const fleet = new Fleet({ driver: new MysqlFleetDriver({ url: 'mysql://root@127.0.0.1:3306/test' }) });
 * ```
 */
export class MysqlFleetDriver implements FleetDriver {
  /** Backend name. */
  readonly name = 'mysql';
  /** Shared by many processes; durable. */
  readonly capabilities = { multiProcess: true, durable: true } as const;
  readonly #pool: ManagedPool;
  readonly #ctx: FleetSqlContext;

  /** @param options - connection (url or pool) and table prefix; validated here */
  constructor(options: MysqlFleetOptions) {
    const o = parseMysqlOptions(options, 'MysqlFleetDriver options');
    this.#pool = managedPool(o);
    this.#ctx = {
      pool: this.#pool.pool,
      prefix: o.tablePrefix,
      slots: new FleetSlots(this.#pool.pool, o.tablePrefix),
    };
  }

  /** The validated table prefix. */
  get tablePrefix(): string {
    return this.#ctx.prefix;
  }

  async upsert(servers: readonly ServerRecord[]): Promise<Server[]> {
    if (servers.length === 0) return [];
    const { slots } = this.#ctx;
    await slots.ensure(servers.flatMap((s) => Object.keys(s.capacity)));
    const { servers: t } = fleetTables(this.#ctx.prefix);
    const now = new Date();
    const rows = byKey(servers, (s) => s.id).map((s) => {
      const caps = new Array<number>(FLEET_SLOTS).fill(0);
      for (const [name, amount] of Object.entries(s.capacity)) caps[slots.slot(name)] = amount;
      return [s.id, s.region, s.state, JSON.stringify(s.labels), '{}', 1, now, ...caps];
    });
    const res = await runQuery<unknown[]>(
      this.#pool.pool,
      'fleet upsert',
      `INSERT INTO ${t} (id, region, state, labels, grp_counts, generation, updated_at, ${capColumns.join(', ')})
       VALUES ?
       ON DUPLICATE KEY UPDATE region = VALUES(region), state = VALUES(state), labels = VALUES(labels),
         ${capColumns.map((c) => `${c} = VALUES(${c})`).join(', ')},
         generation = generation + 1, updated_at = VALUES(updated_at);
       SELECT ${SERVER_COLUMNS} FROM ${t} WHERE id IN (?)`,
      [rows, [...new Set(servers.map((s) => s.id))]],
    );
    const byId = new Map(((res[1] as RowDataPacket[]) ?? []).map((r) => [String(r.id), toServer(r, slots)]));
    return servers.map((s) => byId.get(s.id)!);
  }

  async get(id: string): Promise<Server | null> {
    const [server] = await this.#servers('WHERE id = ?', [id]);
    return server ?? null;
  }

  async list(query: ServerQuery): Promise<Server[]> {
    const { sql, params } = whereOf([
      ['region = ?', query.region],
      ['state IN (?)', typeof query.state === 'string' ? [query.state] : query.state && [...query.state]],
      ['updated_at >= ?', query.updatedSince],
    ]);
    return this.#servers(`${sql} ORDER BY id`, params);
  }

  async setState(id: string, state: ServerState): Promise<Server> {
    const { servers } = fleetTables(this.#ctx.prefix);
    await runQuery(
      this.#pool.pool,
      'fleet setState',
      `UPDATE ${servers} SET state = ?, generation = generation + 1, updated_at = UTC_TIMESTAMP(3) WHERE id = ?`,
      [state, id],
    );
    const s = await this.get(id);
    if (!s) throw new NotFoundError(`server ${id} not found`);
    return s;
  }

  async reserve(inputs: readonly ReserveInput[]): Promise<ReserveOutcome[]> {
    if (this.#ctx.slots.size === 0) await this.#ctx.slots.load();
    return reserveSql(this.#ctx, inputs);
  }

  async release(inputs: readonly ReleaseInput[]): Promise<ReleaseOutcome[]> {
    if (this.#ctx.slots.size === 0) await this.#ctx.slots.load();
    return releaseSql(this.#ctx, inputs);
  }

  async pruneReleased(before: Date, limit: number): Promise<number> {
    const { fences } = fleetTables(this.#ctx.prefix);
    const res = await runQuery<ResultSetHeader>(
      this.#pool.pool,
      'fleet prune',
      `DELETE FROM ${fences} WHERE updated_at < ? ORDER BY updated_at LIMIT ?`,
      [before, limit],
    );
    return res.affectedRows;
  }

  async allocations(query: AllocationQuery): Promise<Allocation[]> {
    const { allocations } = fleetTables(this.#ctx.prefix);
    if (query.keys?.length === 0) return [];
    const { sql, params } = whereOf([
      ['server_id = ?', query.serverId],
      ['alloc_key IN (?)', query.keys && [...query.keys]],
    ]);
    const rows = await runQuery<RowDataPacket[]>(
      this.#pool.pool,
      'fleet allocations',
      `SELECT ${ALLOCATION_COLUMNS} FROM ${allocations} ${sql} ORDER BY alloc_key`,
      params,
    );
    return rows.map(toAllocation);
  }

  /** Close the pool when the fleet created it from `url`; a pool you passed in stays open. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  /** Read servers; re-read the resource slots first when a row uses one this process has not seen. */
  async #servers(clause: string, params: unknown[]): Promise<Server[]> {
    const { servers } = fleetTables(this.#ctx.prefix);
    const rows = await runQuery<RowDataPacket[]>(
      this.#pool.pool,
      'fleet read',
      `SELECT ${SERVER_COLUMNS} FROM ${servers} ${clause}`,
      params,
    );
    const { slots } = this.#ctx;
    const unknown = (r: RowDataPacket): boolean => {
      for (let i = 0; i < FLEET_SLOTS; i++)
        if ((Number(r[`cap${i}`]) > 0 || Number(r[`used${i}`]) > 0) && !slots.has(i)) return true;
      return false;
    };
    if (rows.some(unknown)) await slots.load();
    return rows.map((r) => toServer(r, slots));
  }
}

/** `WHERE …` of the conditions whose value is defined (or `''`), with their parameters in order. */
function whereOf(pairs: readonly (readonly [string, unknown])[]): { sql: string; params: unknown[] } {
  const { clauses, params } = conditions(pairs);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}
