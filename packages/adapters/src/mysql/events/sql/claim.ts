/**
 * Claims in one round trip, without a herd. A claim takes the feed counter first, so claimers
 * pass one at a time through a short critical section and each finds the oldest work nobody has
 * taken yet, whatever their number. Inside it, a non-locking read of a small window of candidates
 * (an index range, oldest first) is joined back by primary key and locked with SKIP LOCKED: rows a
 * transition holds are skipped, so the claim never waits while it holds the counter, and no
 * secondary-index record is ever locked (a locking scan of the status index would block the
 * status updates of the rows it skipped, and deadlock against their counter wait). The locked
 * rows are then updated, numbered and read back, and the transaction commits.
 *
 * @module
 */
import type { ClaimInput, StoredEvent } from '@ctlplane/core';
import type { Statement } from '../../round-trip.js';
import { inTransaction } from '../../transaction.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import type { SqlContext } from './context.js';
import { advanceCounter, positionAt, SET_NOW, takeCounter } from './feed-counter.js';
import { IDS_TABLE } from './ids.js';
import { andClauses, conditions } from './where.js';

/** Candidates read per claim beyond its limit: rows locked by in-flight transitions are skipped. */
const SPARE_CANDIDATES = 16;

/** Fresh and lease-expired candidates, and the claimable condition re-checked on the locked row. */
const CLAIMABLE = {
  pending: {
    fresh: "status = 'pending' AND lease_expires_at IS NULL",
    expired: "status = 'pending' AND lease_expires_at <= @now",
    recheck: "e.status = 'pending' AND (e.lease_expires_at IS NULL OR e.lease_expires_at <= @now)",
    to: 'pending',
  },
  placed: {
    fresh: "status = 'placed' AND lease_expires_at IS NULL",
    expired: "status IN ('claimed', 'running') AND lease_expires_at <= @now",
    recheck: "(e.status = 'placed' OR (e.status IN ('claimed', 'running') AND e.lease_expires_at <= @now))",
    to: 'claimed',
  },
} as const;

/** @internal The statements of one claim; the claimed rows come back as `claimed`. */
export function claimStatements(prefix: string, input: ClaimInput): Statement[] {
  const t = `\`${prefix}events\``;
  const c = CLAIMABLE[input.status ?? 'placed'];
  const f = conditions([
    ['server_id = ?', input.serverId],
    ['region = ?', input.region],
    ['type IN (?)', input.types],
  ]);
  const window = input.limit + SPARE_CANDIDATES;
  // The index that reads the window in id order; left to itself MariaDB may intersect two.
  const index = input.serverId ? 'ix_status_server' : input.region ? 'ix_status_region' : 'ix_status_lease';
  const from = `${t} FORCE INDEX (${index})`;
  // Fresh work oldest first; expired leases in the index's order, soonest expired first (sorting
  // every expired lease by id would read them all after a crash of many workers).
  const candidates =
    `(SELECT id FROM ${from} WHERE ${c.fresh}${andClauses(f)} ORDER BY id LIMIT ?) UNION ALL ` +
    `(SELECT id FROM ${from} WHERE ${c.expired}${andClauses(f)} LIMIT ?)`;
  const windowParams = [...f.params, window, ...f.params, window];
  return [
    SET_NOW,
    // An idle claimer must not queue on the counter: look for a candidate first, without a lock.
    {
      sql: `SELECT COUNT(*) INTO @found FROM ((SELECT 1 FROM ${from} WHERE ${c.fresh}${andClauses(f)} LIMIT 1) UNION ALL (SELECT 1 FROM ${from} WHERE ${c.expired}${andClauses(f)} LIMIT 1)) AS any_candidate`,
      params: [...f.params, ...f.params],
    },
    // Taken only when there is work (MariaDB folds the @found test: no row is read, or locked, otherwise).
    ...takeCounter(prefix, '@found > 0'),
    {
      sql:
        `SELECT JSON_ARRAYAGG(x.id) INTO @ids FROM (SELECT e.id FROM (${candidates}) AS c ` +
        `JOIN ${t} AS e FORCE INDEX (PRIMARY) ON e.id = c.id WHERE @base IS NOT NULL AND ${c.recheck}${andClauses(f, 'e.')} ` +
        'ORDER BY e.id LIMIT ? FOR UPDATE SKIP LOCKED) AS x',
      params: [...windowParams, ...f.params, input.limit],
    },
    {
      sql:
        `UPDATE ${IDS_TABLE} JOIN ${t} AS e ON e.id = j.id SET e.status = ?, e.lease_owner = ?, ` +
        'e.lease_expires_at = DATE_ADD(@now, INTERVAL ? MICROSECOND), e.attempts = e.attempts + 1, ' +
        `e.version = e.version + 1, e.seq = ${positionAt('j.n')}, e.updated_at = @now`,
      params: [c.to, input.owner, input.leaseMs * 1000],
    },
    // Every locked row was numbered: the counter moves past the last one.
    advanceCounter(prefix, 'COALESCE(JSON_LENGTH(@ids), 0)'),
    {
      sql: `SELECT ${qualified('e')} FROM ${IDS_TABLE} JOIN ${t} AS e ON e.id = j.id ORDER BY e.id`,
      name: 'claimed',
    },
  ];
}

function qualified(alias: string): string {
  return EVENT_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

/** @internal Claim up to `input.limit` events, oldest first, in one round trip. */
export function claimEvents(ctx: SqlContext, input: ClaimInput): Promise<StoredEvent[]> {
  return inTransaction(
    ctx.pool,
    'claim',
    async (tx) => (await tx.commit(claimStatements(ctx.prefix, input))).rows('claimed').map(toEvent),
    ctx.hooks,
  );
}
