/**
 * Reserve and release on MySQL. Each reservation is one conditional UPDATE of the server row on
 * plain integer columns — `generation = ? AND state = 'active' AND cap × ratio − used ≥ demand` for
 * every resource — so the database itself refuses a stale or overcommitting reservation. A batch
 * is one transaction of two round trips. Work on a key first locks its row of the fences table
 * (made if missing), so reserves and releases of one key serialize even when nothing is held; then
 * server rows are locked in id order, so concurrent batches never deadlock on them.
 *
 * @internal
 * @module
 */
import type {
  Allocation,
  ReleaseInput,
  ReleaseOutcome,
  ReserveInput,
  ReserveOutcome,
  Server,
} from '@ctlplane/core';
import { checkReservation, isFenced, isRetired, retiredFence } from '@ctlplane/core/driver';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { inTransaction, type Tx } from '../pool.js';
import {
  ALLOCATION_COLUMNS,
  byKey,
  demandEntries,
  fleetTables,
  jsonPath,
  SERVER_COLUMNS,
  toAllocation,
  toRetired,
  toServer,
} from './rows.js';
import type { FleetSlots } from './slots.js';

/** @internal */
export interface FleetSqlContext {
  readonly pool: Pool;
  readonly prefix: string;
  readonly slots: FleetSlots;
}

const GROUP_UP =
  'grp_counts = JSON_SET(grp_counts, ?, COALESCE(CAST(JSON_VALUE(grp_counts, ?) AS SIGNED), 0) + 1)';
const GROUP_DOWN =
  'grp_counts = IF(COALESCE(CAST(JSON_VALUE(grp_counts, ?) AS SIGNED), 0) <= 1, JSON_REMOVE(grp_counts, ?), JSON_SET(grp_counts, ?, CAST(JSON_VALUE(grp_counts, ?) AS SIGNED) - 1))';

/** Slots of a demand's positive entries, or null when a resource has no slot (no server has it). */
function slotted(
  ctx: FleetSqlContext,
  input: { demand: ReserveInput['demand'] },
): [number, string, number][] | null {
  const out: [number, string, number][] = [];
  for (const [name, amount] of demandEntries(input.demand)) {
    const slot = ctx.slots.slot(name);
    if (slot < 0) return null;
    out.push([slot, name, amount]);
  }
  return out;
}

function reserveStatement(
  t: string,
  { allocations: allocationsTable, fences }: { allocations: string; fences: string },
  input: ReserveInput,
  entries: [number, string, number][],
  chained: boolean,
  params: unknown[],
): string {
  const sets = entries.map(([s]) => `used${s} = used${s} + ?`);
  for (const [, , amount] of entries) params.push(amount);
  if (input.group) {
    sets.push(GROUP_UP);
    params.push(jsonPath(input.group), jsonPath(input.group));
  }
  params.push(input.serverId, input.generation);
  const where = ['id = ?', 'generation = ?', "state = 'active'"];
  if (chained) where.push('@ctl_fleet_ok > 0');
  if (input.fence !== null && input.fence !== undefined) {
    // A newer decision holds the key: leave it (the row is locked by this transaction's first read).
    where.push(`NOT EXISTS (SELECT 1 FROM ${allocationsTable} WHERE alloc_key = ? AND fence > ?)`);
    // Nor may a decision reserve a key released by one at least as new (the fence row is locked too).
    where.push(`NOT EXISTS (SELECT 1 FROM ${fences} WHERE alloc_key = ? AND retired >= ?)`);
    params.push(input.key, input.fence, input.key, input.fence);
  }
  for (const [s, name, amount] of entries) {
    where.push(`cap${s} * ? - used${s} >= ?`);
    params.push(input.ratios?.[name] ?? 1, amount);
  }
  sets.push('generation = generation + 1', 'updated_at = UTC_TIMESTAMP(3)');
  return `UPDATE ${t} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`;
}

function releaseStatements(ctx: FleetSqlContext, held: readonly Allocation[], params: unknown[]): string[] {
  const { servers, allocations } = fleetTables(ctx.prefix);
  const out = byKey(held, (a) => a.serverId).map((a) => {
    const sets: string[] = [];
    for (const [name, amount] of demandEntries(a.demand)) {
      const s = ctx.slots.slot(name);
      if (s < 0) continue;
      sets.push(`used${s} = used${s} - ?`);
      params.push(amount);
    }
    if (a.group) {
      sets.push(GROUP_DOWN);
      const g = jsonPath(a.group);
      params.push(g, g, g, g);
    }
    sets.push('generation = generation + 1', 'updated_at = UTC_TIMESTAMP(3)');
    params.push(a.serverId);
    return `UPDATE ${servers} SET ${sets.join(', ')} WHERE id = ?`;
  });
  if (held.length > 0) {
    out.push(`DELETE FROM ${allocations} WHERE alloc_key IN (?)`);
    params.push(held.map((a) => a.key));
  }
  return out;
}

/** Lock (making it if missing) the fence row of each key, in key order: the first statement on a key. */
function lockFences(fences: string, keys: readonly string[], params: unknown[]): string {
  const now = new Date();
  params.push([...new Set(keys)].sort().map((k) => [k, null, now]));
  return `INSERT INTO ${fences} (alloc_key, retired, updated_at) VALUES ? ON DUPLICATE KEY UPDATE alloc_key = alloc_key`;
}

/** Retire released keys up to their fences (never lowering an earlier retirement). */
function retireStatements(fences: string, retired: ReadonlyMap<string, number>, params: unknown[]): string[] {
  const now = new Date();
  return [...retired].map(([key, fence]) => {
    params.push(fence, now, key);
    return `UPDATE ${fences} SET retired = GREATEST(COALESCE(retired, 0), ?), updated_at = ? WHERE alloc_key = ?`;
  });
}

/** Run statements in one round trip (committing when asked); one result per statement. */
async function many(tx: Tx, statements: string[], params: unknown[], commit = false): Promise<unknown[]> {
  const sql = statements.join('; ');
  if (commit) {
    const res = await tx.commit<unknown[]>(sql, params);
    return res.slice(0, statements.length);
  }
  const res = await tx.query<unknown>(sql, params);
  return statements.length === 1 ? [res] : (res as unknown[]);
}

/** @internal Apply a batch of reservations in one transaction (see FleetDriver.reserve). */
export async function reserveSql(
  ctx: FleetSqlContext,
  inputs: readonly ReserveInput[],
): Promise<ReserveOutcome[]> {
  if (inputs.length === 0) return [];
  const tables = fleetTables(ctx.prefix);
  const { servers, allocations, fences } = tables;
  if (inputs.some((i) => slotted(ctx, i) === null)) await ctx.slots.load();
  const ordered = byKey(
    inputs.map((input, i) => ({ input, i, entries: slotted(ctx, input) })),
    (x) => x.input.serverId,
  );
  const applied = new Array<boolean>(inputs.length).fill(false);
  const broken = new Set<number>();
  const heldFence = new Map<string, number | null>();
  let retired = new Map<string, number>();
  const fresh = await inTransaction(ctx.pool, 'fleet reserve', async (tx) => {
    const keys = [...new Set(inputs.map((x) => x.key))];
    const params: unknown[] = [];
    const statements = [lockFences(fences, keys, params)];
    statements.push(`SELECT ${ALLOCATION_COLUMNS} FROM ${allocations} WHERE alloc_key IN (?) FOR UPDATE`);
    statements.push(`SELECT alloc_key, retired FROM ${fences} WHERE alloc_key IN (?)`);
    params.push(keys, keys);
    const at = new Map<number, number>();
    ordered.forEach(({ input, i, entries }, n) => {
      const prev = ordered[n - 1];
      const sameAsPrev = prev?.input.serverId === input.serverId;
      // A resource no server has cannot fit; the rest of that server's chain fails with it.
      if (entries === null || (sameAsPrev && broken.has(prev.i))) {
        broken.add(i);
        return;
      }
      at.set(i, statements.length);
      statements.push(reserveStatement(servers, tables, input, entries, sameAsPrev, params));
      if (ordered[n + 1]?.input.serverId === input.serverId)
        statements.push('SET @ctl_fleet_ok = ROW_COUNT()');
    });
    const results = await many(tx, statements, params);
    const held = (results[1] as RowDataPacket[]).map(toAllocation);
    for (const a of held) heldFence.set(a.key, a.fence);
    retired = toRetired(results[2] as RowDataPacket[]);
    for (const [i, idx] of at) applied[i] = (results[idx] as ResultSetHeader).affectedRows === 1;
    const tail: string[] = [];
    const tailParams: unknown[] = [];
    const rows = inputs.filter((_, i) => applied[i]);
    // Only a key whose new reservation applied gives its old one back; a refused input keeps it.
    const moved = new Set(rows.map((r) => r.key));
    tail.push(
      ...releaseStatements(
        ctx,
        held.filter((a) => moved.has(a.key)),
        tailParams,
      ),
    );
    if (rows.length > 0) {
      tail.push(`INSERT INTO ${allocations} (alloc_key, server_id, demand, grp, fence, created_at) VALUES ?`);
      tailParams.push(
        rows.map((r) => [
          r.key,
          r.serverId,
          JSON.stringify(r.demand),
          r.group ?? null,
          r.fence ?? null,
          new Date(),
        ]),
      );
    }
    const failedIds = [...new Set(inputs.filter((_, i) => !applied[i]).map((x) => x.serverId))];
    if (failedIds.length > 0) {
      tail.push(`SELECT ${SERVER_COLUMNS} FROM ${servers} WHERE id IN (?)`);
      tailParams.push(failedIds);
    }
    if (tail.length === 0) tail.push('DO 0');
    const out = await many(tx, tail, tailParams, true);
    const last = failedIds.length > 0 ? (out[out.length - 1] as RowDataPacket[]) : [];
    return new Map<string, Server>(last.map((r) => [String(r.id), toServer(r, ctx.slots)]));
  });
  // A failure on a server makes the rest of its chain fail as `conflict`.
  const afterFailure = new Set<number>();
  ordered.forEach(({ i }, n) => {
    const prev = ordered[n - 1];
    if (prev && prev.input.serverId === ordered[n]!.input.serverId && !applied[prev.i]) afterFailure.add(i);
  });
  return inputs.map((input, i): ReserveOutcome => {
    const { key, serverId } = input;
    // Generation after this input = the generation it expected + 1 (chains bump one per reservation).
    if (applied[i]) return { ok: true, key, serverId, generation: input.generation + 1 };
    const server = fresh.get(serverId) ?? null;
    const reason = afterFailure.has(i)
      ? 'conflict'
      : isFenced(heldFence.get(key), input.fence) || isRetired(retired.get(key), input.fence)
        ? 'fenced'
        : (checkReservation(server, input) ?? 'conflict');
    return { ok: false, key, serverId, reason, server };
  });
}

/**
 * @internal Release reservations by key in one transaction; a newer fence keeps one. Each key is
 * retired up to the higher of the input's fence and the released reservation's.
 */
export async function releaseSql(
  ctx: FleetSqlContext,
  inputs: readonly ReleaseInput[],
): Promise<ReleaseOutcome[]> {
  if (inputs.length === 0) return [];
  const keys = inputs.map((r) => r.key);
  const unique = [...new Set(keys)];
  const inputFence = new Map(inputs.map((r) => [r.key, r.fence]));
  const kept = new Set<string>();
  const { servers, allocations, fences } = fleetTables(ctx.prefix);
  const { held, fresh } = await inTransaction(ctx.pool, 'fleet release', async (tx) => {
    const lockParams: unknown[] = [];
    const lock = lockFences(fences, unique, lockParams);
    const [, heldRows] = await tx.query<[unknown, RowDataPacket[]]>(
      `${lock}; SELECT ${ALLOCATION_COLUMNS} FROM ${allocations} WHERE alloc_key IN (?) ORDER BY alloc_key FOR UPDATE`,
      [...lockParams, unique],
    );
    const byKeyHeld = new Map(heldRows.map(toAllocation).map((a) => [a.key, a]));
    const found = [...byKeyHeld.values()].filter((a) => {
      if (!isFenced(a.fence, inputFence.get(a.key))) return true;
      kept.add(a.key);
      return false;
    });
    const retire = new Map<string, number>();
    for (const key of unique) {
      if (kept.has(key)) continue;
      const fence = retiredFence(byKeyHeld.get(key)?.fence, inputFence.get(key));
      if (fence !== null) retire.set(key, fence);
    }
    const params: unknown[] = [];
    const statements = [
      ...releaseStatements(ctx, found, params),
      ...retireStatements(fences, retire, params),
    ];
    if (found.length > 0) {
      statements.push(`SELECT ${SERVER_COLUMNS} FROM ${servers} WHERE id IN (?)`);
      params.push([...new Set(found.map((a) => a.serverId))]);
    } else statements.push('DO 0');
    const out = await many(tx, statements, params, true);
    const rows = found.length > 0 ? (out[out.length - 1] as RowDataPacket[]) : [];
    return { held: found, fresh: new Map(rows.map((r) => [String(r.id), toServer(r, ctx.slots)])) };
  });
  const byAlloc = new Map(held.map((a) => [a.key, a]));
  const done = new Set<string>();
  return keys.map((key): ReleaseOutcome => {
    const a = byAlloc.get(key);
    const server = a ? fresh.get(a.serverId) : undefined;
    if (kept.has(key)) return { ok: false, key, reason: 'fenced' };
    if (!a || !server || done.has(key)) return { ok: false, key, reason: 'not_found' };
    done.add(key);
    return { ok: true, key, server };
  });
}
