/**
 * The changes feed and its head: plain, non-locking reads by feed position.
 *
 * @module
 */
import type { FeedFilter, FeedPage } from '@ctlplane/core';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { Statement } from '../../round-trip.js';
import { runQuery, runScript } from '../../transaction.js';
import { conditions } from '../../where.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';

/**
 * @internal The feed's statement: `seq > cursor` in seq order, through `ix_seq_region (seq,
 * region)` (a region is checked on the index entry), up to `@feed_head`, the counter as an earlier
 * statement read it ({@link readHead}).
 *
 * Why the bound: positions are handed out under the counter's row lock, held to commit, so the
 * writes commit in position order. That alone does not make a statement's snapshot see a prefix of
 * them: MariaDB builds a read view by walking its hash of active transactions without a lock, and a
 * commit at n + 1 that lands during the walk can be seen while the commit at n, walked earlier as
 * still active, is not (measured: about one read in 15,000 under 16 writers; docs/internals.md).
 * A counter value read by a statement that has ended is safe: the write that stored it had
 * committed, every lower position committed before it (InnoDB releases a transaction's locks only
 * after it left the active list), so a later statement's snapshot sees all positions up to it.
 */
export function feedStatement(
  p: string,
  cursor: number,
  limit: number,
  filter: FeedFilter,
): { sql: string; params: unknown[] } {
  const { clauses: where, params } = conditions([
    ['seq > ?', cursor],
    ['region = ?', filter.region],
    ['server_id = ?', filter.serverId],
    ['status IN (?)', filter.status === undefined ? undefined : [filter.status].flat()],
  ]);
  params.push(limit);
  return {
    sql: `SELECT ${EVENT_COLUMNS} FROM \`${p}events\` WHERE seq <= @feed_head AND ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
    params,
  };
}

/**
 * @internal The statements before {@link feedStatement}: `@feed_head`, NULL without a counter. A
 * plain `SELECT … INTO`, a consistent read: `SET @x := (SELECT …)` would be a locking read and wait
 * for the writer holding the counter (measured: it blocks, this does not).
 */
export function readHead(p: string): Statement[] {
  return [
    { sql: 'SET @feed_head := NULL' },
    { sql: `SELECT v INTO @feed_head FROM \`${p}feed_seq\` WHERE id = 1` },
  ];
}

/** @internal Read a page of the feed: the head, then the page, in one round trip. */
export async function readFeed(
  pool: Pool,
  p: string,
  cursor: number,
  limit: number,
  filter: FeedFilter,
): Promise<FeedPage> {
  const { sql, params } = feedStatement(p, cursor, limit, filter);
  const results = await runScript(pool, 'readFeed', [...readHead(p), { sql, params, name: 'page' }]);
  const events = results.rows('page').map(toEvent);
  return { events, cursor: events.at(-1)?.seq ?? cursor };
}

/** @internal */
export async function feedHead(pool: Pool, p: string): Promise<number> {
  const rows = await runQuery<RowDataPacket[]>(pool, 'head', `SELECT v FROM \`${p}feed_seq\` WHERE id = 1`);
  return Number(rows[0]?.v ?? 0);
}
