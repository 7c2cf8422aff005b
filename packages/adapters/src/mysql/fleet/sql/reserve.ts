/**
 * Reserve on MySQL. Each reservation is one conditional UPDATE of the server row on plain integer
 * columns — `generation = ? AND state = 'active' AND cap × ratio − used ≥ demand` for every
 * resource — so the database itself refuses a stale or overcommitting reservation. A batch is
 * one transaction of two round trips. Work on a key first locks its row of the fences table (made
 * if missing), so reserves and releases of one key serialize even when nothing is held; then
 * server rows are locked in id order, so concurrent batches never deadlock on them.
 *
 * @internal
 * @module
 */
import type { ReserveInput, ReserveOutcome, Server } from '@ctlplane/core';
import { checkReservation, isFenced, isRetired } from '@ctlplane/core/driver';
import type { Statement } from '../../round-trip.js';
import { inTransaction } from '../../transaction.js';
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
} from '../rows.js';
import type { FleetSqlContext } from './context.js';
import { GROUP_UP, lockFences, releaseStatements } from './statements.js';

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
): Statement {
  const params: unknown[] = [];
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
  return { sql: `UPDATE ${t} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, params };
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
    const statements: Statement[] = [
      lockFences(fences, keys),
      {
        sql: `SELECT ${ALLOCATION_COLUMNS} FROM ${allocations} WHERE alloc_key IN (?) FOR UPDATE`,
        params: [keys],
        name: 'held',
      },
      {
        sql: `SELECT alloc_key, retired FROM ${fences} WHERE alloc_key IN (?)`,
        params: [keys],
        name: 'retired',
      },
    ];
    ordered.forEach(({ input, i, entries }, n) => {
      const prev = ordered[n - 1];
      const sameAsPrev = prev?.input.serverId === input.serverId;
      // A resource no server has cannot fit; the rest of that server's chain fails with it.
      if (entries === null || (sameAsPrev && broken.has(prev.i))) {
        broken.add(i);
        return;
      }
      statements.push({
        ...reserveStatement(servers, tables, input, entries, sameAsPrev),
        name: `reserve${i}`,
      });
      if (ordered[n + 1]?.input.serverId === input.serverId)
        statements.push({ sql: 'SET @ctl_fleet_ok = ROW_COUNT()' });
    });
    const results = await tx.run(statements);
    const held = results.rows('held').map(toAllocation);
    for (const a of held) heldFence.set(a.key, a.fence);
    retired = toRetired(results.rows('retired'));
    inputs.forEach((_, i) => {
      if (!broken.has(i)) applied[i] = results.header(`reserve${i}`).affectedRows === 1;
    });
    const tail: Statement[] = [];
    const rows = inputs.filter((_, i) => applied[i]);
    // Only a key whose new reservation applied gives its old one back; a refused input keeps it.
    const moved = new Set(rows.map((r) => r.key));
    tail.push(
      ...releaseStatements(
        ctx,
        held.filter((a) => moved.has(a.key)),
      ),
    );
    if (rows.length > 0) {
      const now = new Date();
      tail.push({
        sql: `INSERT INTO ${allocations} (alloc_key, server_id, demand, grp, fence, created_at) VALUES ?`,
        params: [
          rows.map((r) => [
            r.key,
            r.serverId,
            JSON.stringify(r.demand),
            r.group ?? null,
            r.fence ?? null,
            now,
          ]),
        ],
      });
    }
    const failedIds = [...new Set(inputs.filter((_, i) => !applied[i]).map((x) => x.serverId))];
    if (failedIds.length > 0) {
      tail.push({
        sql: `SELECT ${SERVER_COLUMNS} FROM ${servers} WHERE id IN (?)`,
        params: [failedIds],
        name: 'fresh',
      });
    }
    const out = await tx.commit(tail);
    const last = failedIds.length > 0 ? out.rows('fresh') : [];
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
