/**
 * Claims in one round trip, without a herd. A claim of shared work (a region's, or the whole
 * store's) takes the feed counter first, so claimers pass one at a time through a short critical
 * section and each finds the oldest work nobody has taken yet, whatever their number. Inside it,
 * a non-locking read of a small window of candidates (an index range, oldest first) is joined
 * back by primary key and locked with SKIP LOCKED: rows a transition holds are skipped, so the
 * claim never waits while it holds the counter, and no secondary-index record is ever locked (a
 * locking scan of the status index would block the status updates of the rows it skipped, and
 * deadlock against their counter wait). The locked rows are then updated, numbered and read
 * back, and the transaction commits.
 *
 * A claim naming a server is made by that server's agent alone, so there is no herd to order: it
 * locks its rows the same way and reads them before it takes the counter (only when it locked
 * any), holding the counter for its UPDATE alone; the claimed events are built from the rows read.
 *
 * @module
 */
import type { ClaimInput, StoredEvent } from '@ctlplane/core';
import type { Statement } from '../../round-trip.js';
import { RowReader } from '../../row-checks.js';
import { inTransaction } from '../../transaction.js';
import { andClauses, conditions } from '../../where.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import type { SqlContext } from './context.js';
import { advanceCounter, positionAt, READ_META, SET_NOW, takeCounter } from './feed-counter.js';
import { IDS_TABLE } from './ids.js';

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

/** A claim's candidate window and filters, shared by both ways of claiming. */
function window(prefix: string, input: ClaimInput, size: number) {
  const t = `\`${prefix}events\``;
  const c = CLAIMABLE[input.status ?? 'placed'];
  const f = conditions([
    ['server_id = ?', input.serverId],
    ['region = ?', input.region],
    ['type IN (?)', input.types],
  ]);
  // The index that reads the window in id order; left to itself MariaDB may intersect two.
  const index = input.serverId ? 'ix_status_server' : input.region ? 'ix_status_region' : 'ix_status_lease';
  const from = `${t} FORCE INDEX (${index})`;
  // Fresh work oldest first; expired leases in the index's order, soonest expired first (sorting
  // every expired lease by id would read them all after a crash of many workers).
  const candidates =
    `(SELECT id FROM ${from} WHERE ${c.fresh}${andClauses(f)} ORDER BY id LIMIT ?) UNION ALL ` +
    `(SELECT id FROM ${from} WHERE ${c.expired}${andClauses(f)} LIMIT ?)`;
  const params = [...f.params, size, ...f.params, size];
  return { t, c, f, from, candidates, params };
}

/** Lock up to `limit` of the window's rows by primary key, skipping held ones, into `@ids`. */
function lockInto(w: ReturnType<typeof window>, limit: number, when = ''): Statement {
  return {
    sql:
      `SELECT JSON_ARRAYAGG(x.id) INTO @ids FROM (SELECT e.id FROM (${w.candidates}) AS c ` +
      `JOIN ${w.t} AS e FORCE INDEX (PRIMARY) ON e.id = c.id WHERE ${when}${w.c.recheck}${andClauses(w.f, 'e.')} ` +
      'ORDER BY e.id LIMIT ? FOR UPDATE SKIP LOCKED) AS x',
    params: [...w.params, ...w.f.params, limit],
  };
}

/** Lease, count and number the rows of `@ids` (`@base + n`), then move the counter past them. */
function leaseIds(prefix: string, w: ReturnType<typeof window>, input: ClaimInput): Statement[] {
  return [
    {
      sql:
        `UPDATE ${IDS_TABLE} JOIN ${w.t} AS e ON e.id = j.id SET e.status = ?, e.lease_owner = ?, ` +
        'e.lease_expires_at = DATE_ADD(@now, INTERVAL ? MICROSECOND), e.attempts = e.attempts + 1, ' +
        `e.version = e.version + 1, e.seq = ${positionAt('j.n')}, e.updated_at = @now`,
      params: [w.c.to, input.owner, input.leaseMs * 1000],
    },
    // Every locked row was numbered: the counter moves past the last one.
    advanceCounter(prefix, 'COALESCE(JSON_LENGTH(@ids), 0)'),
  ];
}

/**
 * @internal The statements of a claim of a region's or the whole store's work, which many claimers
 * share; the claimed rows come back as `claimed`.
 */
export function claimStatements(prefix: string, input: ClaimInput): Statement[] {
  const w = window(prefix, input, input.limit + SPARE_CANDIDATES);
  const any = (cond: string) => `(SELECT 1 FROM ${w.from} WHERE ${cond}${andClauses(w.f)} LIMIT 1)`;
  return [
    SET_NOW,
    // An idle claimer must not queue on the counter: look for a candidate first, without a lock.
    {
      sql: `SELECT COUNT(*) INTO @found FROM (${any(w.c.fresh)} UNION ALL ${any(w.c.expired)}) AS any_candidate`,
      params: [...w.f.params, ...w.f.params],
    },
    // Taken only when there is work (MariaDB folds the @found test: no row is read, or locked, otherwise).
    ...takeCounter(prefix, '@found > 0'),
    lockInto(w, input.limit, '@base IS NOT NULL AND '),
    ...leaseIds(prefix, w, input),
    {
      sql: `SELECT ${qualified('e')} FROM ${IDS_TABLE} JOIN ${w.t} AS e ON e.id = j.id ORDER BY e.id`,
      name: 'claimed',
    },
  ];
}

/**
 * @internal The statements of a claim naming a server, which its own agent alone makes: no herd to
 * pass through the counter. Its rows are locked (`SKIP LOCKED`, a wider window in case another
 * claimer of the server holds some) and read whole before the counter is taken — only when a row
 * was locked — so the counter is held for the UPDATE alone. The rows come back as `before`, with
 * their position `n`; the clock and base position as `meta`.
 */
export function serverClaimStatements(
  prefix: string,
  input: ClaimInput,
): { locking: Statement[]; writes: Statement[] } {
  const w = window(prefix, input, input.limit * 2 + SPARE_CANDIDATES);
  return {
    locking: [
      SET_NOW,
      lockInto(w, input.limit),
      {
        sql: `SELECT j.n, ${qualified('e')} FROM ${IDS_TABLE} JOIN ${w.t} AS e ON e.id = j.id ORDER BY e.id`,
        name: 'before',
      },
    ],
    writes: [...takeCounter(prefix, 'JSON_LENGTH(@ids) > 0'), ...leaseIds(prefix, w, input), READ_META],
  };
}

function qualified(alias: string): string {
  return EVENT_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

/** @internal Claim up to `input.limit` events, oldest first, in one round trip. */
export function claimEvents(ctx: SqlContext, input: ClaimInput): Promise<StoredEvent[]> {
  if (input.serverId) return claimServerEvents(ctx, input);
  return inTransaction(
    ctx.pool,
    'claim',
    async (tx) => (await tx.commit(claimStatements(ctx.prefix, input))).rows('claimed').map(toEvent),
    ctx.hooks,
  );
}

/** A claim naming a server: the rows read before the UPDATE, leased here as the UPDATE leased them. */
async function claimServerEvents(ctx: SqlContext, input: ClaimInput): Promise<StoredEvent[]> {
  const { locking, writes } = serverClaimStatements(ctx.prefix, input);
  const results = await inTransaction(ctx.pool, 'claim', (tx) => tx.commit(writes, locking), ctx.hooks);
  const rows = results.rows('before');
  if (rows.length === 0) return [];
  const meta = new RowReader('meta', results.row('meta'));
  const base = meta.count('base');
  const now = meta.date('now');
  const status = CLAIMABLE[input.status ?? 'placed'].to;
  return rows.map((row) => {
    const e = toEvent(row);
    return {
      ...e,
      status,
      leaseOwner: input.owner,
      leaseExpiresAt: new Date(now.getTime() + input.leaseMs),
      attempts: e.attempts + 1,
      version: e.version + 1,
      seq: base + new RowReader('ids', row).count('n'),
      updatedAt: now,
    };
  });
}
