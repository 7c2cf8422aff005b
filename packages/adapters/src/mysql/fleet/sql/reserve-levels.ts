/**
 * The server updates of a reserve batch, set-based: reservations are cut into levels (the k-th
 * reservation on each server is in level k), and each level is one UPDATE joining its rows — a
 * JSON array parameter read by `JSON_TABLE` — to the servers and to the keys' fence rows. A row
 * applies when the server is at the expected generation, active, and has room for every positive
 * demand (capacity × ratio − used ≥ demand); at level k > 0 only if the key before it on that
 * server applied. An applied row stamps its fence row with the batch's token, so which
 * reservations applied is read back by token, and the allocations are inserted from them.
 * Measured on one connection, 256 reservations per batch: 18 µs of MariaDB CPU per reservation
 * for the one UPDATE, against 90 µs for one UPDATE statement per reservation.
 *
 * @internal
 * @module
 */
import type { ReserveInput } from '@ctlplane/core';
import type { Statement } from '../../round-trip.js';
import { fleetTables, jsonPath } from '../rows.js';
import type { FleetSqlContext } from './context.js';

/** A reservation as one row of a level: its slots' demands and ratios, and its predecessor's key. */
export interface LevelRow {
  readonly input: ReserveInput;
  readonly entries: readonly [slot: number, name: string, amount: number][];
  /** The key reserved just before this one on the same server in this batch (level > 0). */
  readonly prev: string | null;
}

function jsonRow({ input, entries, prev }: LevelRow): Record<string, unknown> {
  const row: Record<string, unknown> = {
    key: input.key,
    server: input.serverId,
    gen: input.generation,
    prev,
    grp: input.group ? jsonPath(input.group) : null,
    gname: input.group ?? null,
    demand: JSON.stringify(input.demand),
    fence: input.fence ?? null,
  };
  for (const [slot, name, amount] of entries) {
    row[`u${slot}`] = amount;
    row[`r${slot}`] = input.ratios?.[name] ?? 1;
  }
  return row;
}

/** The resource slots a batch's rows name (only those become columns and conditions). */
export function slotsOf(rows: readonly LevelRow[]): number[] {
  return [...new Set(rows.flatMap((r) => r.entries.map(([slot]) => slot)))].sort((a, b) => a - b);
}

/** The rows of a level's JSON array, as table `j`, with a demand and a ratio column per slot. */
function levelRows(slots: readonly number[]): string {
  const perSlot = slots.map(
    (s) =>
      `, u${s} BIGINT PATH '$.u${s}' DEFAULT '0' ON EMPTY, r${s} DOUBLE PATH '$.r${s}' DEFAULT '1' ON EMPTY`,
  );
  return (
    "JSON_TABLE(?, '$[*]' COLUMNS (`key` VARCHAR(191) PATH '$.key', server VARCHAR(191) PATH '$.server', " +
    "gen BIGINT UNSIGNED PATH '$.gen', prev VARCHAR(191) PATH '$.prev', grp VARCHAR(300) PATH '$.grp', " +
    `gname VARCHAR(128) PATH '$.gname', demand TEXT PATH '$.demand', fence BIGINT UNSIGNED PATH '$.fence'${perSlot.join('')})) AS j`
  );
}

/** The UPDATE of one level; `token` marks the fence rows of the reservations that applied. */
export function levelUpdate(
  ctx: FleetSqlContext,
  rows: readonly LevelRow[],
  level: number,
  token: number,
): Statement {
  const { servers, fences } = fleetTables(ctx.prefix);
  const slots = slotsOf(rows);
  const used = slots.map((s) => `s.used${s} = s.used${s} + j.u${s}`);
  const room = slots.map((s) => `(j.u${s} = 0 OR s.cap${s} * j.r${s} - s.used${s} >= j.u${s})`);
  const group =
    's.grp_counts = IF(j.grp IS NULL, s.grp_counts, JSON_SET(s.grp_counts, j.grp, COALESCE(CAST(JSON_VALUE(s.grp_counts, j.grp) AS SIGNED), 0) + 1))';
  const where = ['s.generation = j.gen', "s.state = 'active'", ...room];
  const params: unknown[] = [JSON.stringify(rows.map(jsonRow)), token];
  if (level > 0) {
    where.push(`EXISTS (SELECT 1 FROM ${fences} AS p WHERE p.alloc_key = j.prev AND p.txn = ?)`);
    params.push(token);
  }
  return {
    sql:
      `UPDATE ${levelRows(slots)} JOIN ${servers} AS s ON s.id = j.server JOIN ${fences} AS f ON f.alloc_key = j.\`key\` ` +
      `SET ${[...used, group].join(', ')}, s.generation = s.generation + 1, s.updated_at = @now, f.txn = ? ` +
      `WHERE ${where.join(' AND ')}`,
    params,
  };
}

/** Insert the allocations of every row whose reservation applied (its fence row carries `token`). */
export function insertApplied(ctx: FleetSqlContext, rows: readonly LevelRow[], token: number): Statement {
  const { allocations, fences } = fleetTables(ctx.prefix);
  return {
    sql:
      `INSERT INTO ${allocations} (alloc_key, server_id, demand, grp, fence, created_at) ` +
      `SELECT j.\`key\`, j.server, j.demand, j.gname, j.fence, @now ` +
      `FROM ${levelRows([])} JOIN ${fences} AS f ON f.alloc_key = j.\`key\` WHERE f.txn = ?`,
    params: [JSON.stringify(rows.map(jsonRow)), token],
  };
}

/**
 * The servers of the batch's reservations that did not apply (their fence rows lack `token`):
 * a refused reservation reports its server as it is now.
 */
export function readRefusedServers(
  ctx: FleetSqlContext,
  inputs: readonly ReserveInput[],
  token: number,
  columns: string,
): Statement {
  const { servers, fences } = fleetTables(ctx.prefix);
  const pairs = inputs.map((r) => ({ key: r.key, server: r.serverId }));
  return {
    sql:
      `SELECT ${columns
        .split(', ')
        .map((c) => `s.${c}`)
        .join(', ')} FROM ${servers} AS s WHERE s.id IN (SELECT j.server FROM ` +
      "JSON_TABLE(?, '$[*]' COLUMNS (`key` VARCHAR(191) PATH '$.key', server VARCHAR(191) PATH '$.server')) AS j " +
      `JOIN ${fences} AS f ON f.alloc_key = j.\`key\` WHERE f.txn IS NULL OR f.txn <> ?)`,
    params: [JSON.stringify(pairs), token],
    name: 'servers',
  };
}
