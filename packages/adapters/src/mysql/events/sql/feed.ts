/**
 * The changes feed and its head: plain, non-locking reads by feed position.
 *
 * @module
 */
import type { FeedFilter, FeedPage } from '@ctlplane/core';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { runQuery } from '../../transaction.js';
import { conditions } from '../../where.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';

/**
 * @internal The feed's statement: `seq > cursor` in seq order, through `ix_seq_region (seq,
 * region)` (a region is checked on the index entry). Positions are handed out under a lock held
 * to commit, so once position n is visible every position below n is visible or never will be.
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
    sql: `SELECT ${EVENT_COLUMNS} FROM \`${p}events\` WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
    params,
  };
}

/** @internal Read a page of the feed. */
export async function readFeed(
  pool: Pool,
  p: string,
  cursor: number,
  limit: number,
  filter: FeedFilter,
): Promise<FeedPage> {
  const { sql, params } = feedStatement(p, cursor, limit, filter);
  const rows = await runQuery<RowDataPacket[]>(pool, 'readFeed', sql, params);
  const events = rows.map(toEvent);
  return { events, cursor: events.at(-1)?.seq ?? cursor };
}

/** @internal */
export async function feedHead(pool: Pool, p: string): Promise<number> {
  const rows = await runQuery<RowDataPacket[]>(pool, 'head', `SELECT v FROM \`${p}feed_seq\` WHERE id = 1`);
  return Number(rows[0]?.v ?? 0);
}
