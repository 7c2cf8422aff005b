/**
 * The changes feed and its head: plain, non-locking reads by feed position.
 *
 * @module
 */
import type { FeedFilter, FeedPage } from '@ctlplane/core';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { runQuery } from '../../transaction.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import { conditions } from './where.js';

/**
 * @internal The feed: `seq > cursor` in seq order. Positions are handed out under a lock held
 * to commit, so once position n is visible every position below n is visible or never will be.
 * With a region it uses `ix_region_seq (region, seq)`, otherwise `ix_seq`.
 */
export async function readFeed(
  pool: Pool,
  p: string,
  cursor: number,
  limit: number,
  filter: FeedFilter,
): Promise<FeedPage> {
  const { clauses: where, params } = conditions([
    ['seq > ?', cursor],
    ['region = ?', filter.region],
    ['server_id = ?', filter.serverId],
    ['status IN (?)', filter.status === undefined ? undefined : [filter.status].flat()],
  ]);
  params.push(limit);
  const rows = await runQuery<RowDataPacket[]>(
    pool,
    'readFeed',
    `SELECT ${EVENT_COLUMNS} FROM \`${p}events\` WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
    params,
  );
  const events = rows.map(toEvent);
  return { events, cursor: events.at(-1)?.seq ?? cursor };
}

/** @internal */
export async function feedHead(pool: Pool, p: string): Promise<number> {
  const rows = await runQuery<RowDataPacket[]>(pool, 'head', `SELECT v FROM \`${p}feed_seq\` WHERE id = 1`);
  return Number(rows[0]?.v ?? 0);
}
