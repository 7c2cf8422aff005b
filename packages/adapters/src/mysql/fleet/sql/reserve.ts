/**
 * Reserve on MySQL. A batch is one transaction. The first round trip locks each key's fence row
 * (made if missing) in key order, so reserves and releases of one key serialize even when nothing
 * is held, and reads the keys' reservations and retirements; with those rows locked, a decision
 * that a newer one holds, or that a release retired, is refused here without touching a server.
 * The second round trip reserves: one conditional UPDATE per level of the batch on plain integer
 * columns (see reserve-levels.ts), so the database itself refuses a stale or overcommitting
 * reservation; then the allocations are written and the batch commits. Servers are locked in id
 * order within a level, and a level only touches servers its first level holds, so concurrent
 * batches never deadlock on them.
 *
 * @internal
 * @module
 */
import { randomInt } from 'node:crypto';
import type { Allocation, ReserveInput, ReserveOutcome, Server } from '@ctlplane/core';
import { checkReservation, isFenced, isRetired } from '@ctlplane/core/driver';
import type { Results, Statement } from '../../round-trip.js';
import { inTransaction, type Tx } from '../../transaction.js';
import {
  ALLOCATION_COLUMNS,
  byKey,
  demandEntries,
  fleetTables,
  SERVER_COLUMNS,
  toAllocation,
  toRetired,
  toServer,
} from '../rows.js';
import type { FleetSqlContext } from './context.js';
import { insertApplied, type LevelRow, levelUpdate, readRefusedServers } from './reserve-levels.js';
import { lockFences, releaseStatements } from './statements.js';

/** Slots of a demand's positive entries, or null when a resource has no slot (no server has it). */
function slotted(ctx: FleetSqlContext, input: ReserveInput): [number, string, number][] | null {
  const out: [number, string, number][] = [];
  for (const [name, amount] of demandEntries(input.demand)) {
    const slot = ctx.slots.slot(name);
    if (slot < 0) return null;
    out.push([slot, name, amount]);
  }
  return out;
}

/** The batch in server order, each reservation with its level (its place in its server's chain). */
function plan(ctx: FleetSqlContext, inputs: readonly ReserveInput[]) {
  const ordered = byKey(
    inputs.map((input, i) => ({
      input,
      i,
      entries: slotted(ctx, input),
      level: 0,
      prev: null as string | null,
    })),
    (x) => x.input.serverId,
  );
  // A resource no server has cannot fit: that reservation, and its server's chain after it, fail.
  const broken = new Set<number>();
  ordered.forEach((x, n) => {
    const p = ordered[n - 1];
    if (p?.input.serverId === x.input.serverId) {
      x.level = p.level + 1;
      x.prev = p.input.key;
      if (broken.has(p.i)) broken.add(x.i);
    }
    if (x.entries === null) broken.add(x.i);
  });
  return { ordered, broken };
}

/** @internal Apply a batch of reservations in one transaction (see FleetDriver.reserve). */
export async function reserveSql(
  ctx: FleetSqlContext,
  inputs: readonly ReserveInput[],
): Promise<ReserveOutcome[]> {
  if (inputs.length === 0) return [];
  const { allocations, fences } = fleetTables(ctx.prefix);
  const { ordered, broken } = await plan(ctx, inputs);
  const keys = [...new Set(inputs.map((x) => x.key))];
  const token = randomInt(1, 2 ** 47);
  const heldFence = new Map<string, number | null>();
  let retired = new Map<string, number>();
  let applied = new Set<string>();
  const fresh = await inTransaction(ctx.pool, 'fleet reserve', async (tx) => {
    const first = await tx.run([
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
    ]);
    const held = first.rows('held').map(toAllocation);
    for (const a of held) heldFence.set(a.key, a.fence);
    retired = toRetired(first.rows('retired'));
    const fenced = (r: ReserveInput) =>
      isFenced(heldFence.get(r.key), r.fence) || isRetired(retired.get(r.key), r.fence);
    const rows = ordered.filter((x) => !broken.has(x.i) && !fenced(x.input)) as (LevelRow & {
      level: number;
    })[];
    const levels = Math.max(-1, ...rows.map((r) => r.level)) + 1;
    const updates: Statement[] = [{ sql: 'SET @now := UTC_TIMESTAMP(3)' }];
    for (let level = 0; level < levels; level++) {
      const at = rows.filter((r) => r.level === level);
      if (at.length > 0) updates.push(levelUpdate(ctx, at, level, token));
    }
    const readApplied: Statement = {
      sql: `SELECT alloc_key FROM ${fences} WHERE alloc_key IN (?) AND txn = ?`,
      params: [keys, token],
      name: 'applied',
    };
    const readServers = readRefusedServers(ctx, inputs, token, SERVER_COLUMNS);
    let last: Results;
    if (held.length === 0 || rows.length === 0) {
      // Nothing to give back: reserve, record the allocations and commit in this round trip.
      const insert = rows.length > 0 ? [insertApplied(ctx, rows, token)] : [];
      last = await tx.commit([...updates, ...insert, readApplied, readServers]);
      applied = new Set(last.rows('applied').map((r) => String(r.alloc_key)));
    } else {
      last = await moveAndCommit(tx, ctx, updates, readApplied, readServers, held, rows, token, (a) => {
        applied = a;
      });
    }
    return last.rows('servers');
  });
  const outcomeOf = new Map<number, boolean>();
  for (const x of ordered) outcomeOf.set(x.i, applied.has(x.input.key) && !broken.has(x.i));
  // A failure on a server makes the rest of its chain fail as `conflict`.
  const afterFailure = new Set<number>();
  ordered.forEach(({ i }, n) => {
    const p = ordered[n - 1];
    if (p && p.input.serverId === ordered[n]!.input.serverId && !outcomeOf.get(p.i)) afterFailure.add(i);
  });
  const freshById = new Map<string, unknown>(fresh.map((r) => [String(r.id), r]));
  const parsed = new Map<string, Server | null>();
  const serverOf = (id: string): Server | null => {
    if (!parsed.has(id)) parsed.set(id, freshById.has(id) ? toServer(freshById.get(id), ctx.slots) : null);
    return parsed.get(id)!;
  };
  return inputs.map((input, i): ReserveOutcome => {
    const { key, serverId } = input;
    // Generation after this input = the generation it expected + 1 (chains bump one per reservation).
    if (outcomeOf.get(i)) return { ok: true, key, serverId, generation: input.generation + 1 };
    const server = serverOf(serverId);
    const reason = afterFailure.has(i)
      ? 'conflict'
      : isFenced(heldFence.get(key), input.fence) || isRetired(retired.get(key), input.fence)
        ? 'fenced'
        : (checkReservation(server, input) ?? 'conflict');
    return { ok: false, key, serverId, reason, server };
  });
}

/**
 * Keys of the batch held elsewhere: reserve, then (a round trip later, knowing which applied)
 * give each moved key's old reservation back and record the new ones, and commit.
 */
async function moveAndCommit(
  tx: Tx,
  ctx: FleetSqlContext,
  updates: readonly Statement[],
  readApplied: Statement,
  readServers: Statement,
  held: readonly Allocation[],
  rows: readonly LevelRow[],
  token: number,
  onApplied: (keys: Set<string>) => void,
): Promise<Results> {
  const reserved = await tx.run([...updates, readApplied]);
  const applied = new Set(reserved.rows('applied').map((r) => String(r.alloc_key)));
  onApplied(applied);
  // Only a key whose new reservation applied gives its old one back; a refused input keeps it.
  return tx.commit([
    ...releaseStatements(
      ctx,
      held.filter((a) => applied.has(a.key)),
    ),
    insertApplied(ctx, rows, token),
    readServers,
  ]);
}
