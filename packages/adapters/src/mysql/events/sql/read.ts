/**
 * Reads: get by id, the changes feed and paged queries. Plain non-locking reads.
 *
 * @module
 */
import type { EventPage, FeedFilter, FeedPage, StoredEvent } from '@ctlplane/core';
import type { DriverQuery } from '@ctlplane/core/driver';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { runQuery } from '../../pool.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';
import { conditions } from './where.js';

/** @internal */
export async function getEvent(pool: Pool, p: string, id: number): Promise<StoredEvent | null> {
  const rows = await runQuery<RowDataPacket[]>(
    pool,
    'get',
    `SELECT ${EVENT_COLUMNS} FROM \`${p}events\` WHERE id = ?`,
    [id],
  );
  return rows[0] ? toEvent(rows[0]) : null;
}

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

/** @internal Paged query in id order; fetches one extra row to know whether a next page exists. */
export async function queryEvents(pool: Pool, p: string, q: DriverQuery): Promise<EventPage> {
  const { clauses: where, params } = conditions([
    ['id > ?', q.afterId],
    ['status IN (?)', q.statuses.length > 0 ? q.statuses : undefined],
    ['type = ?', q.type],
    ['server_id = ?', q.serverId],
    ['region = ?', q.region],
  ]);
  params.push(q.limit + 1);
  const rows = await runQuery<RowDataPacket[]>(
    pool,
    'query',
    `SELECT ${EVENT_COLUMNS} FROM \`${p}events\` WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
    params,
  );
  const events = rows.slice(0, q.limit).map(toEvent);
  return { events, nextCursor: rows.length > q.limit ? String(events.at(-1)!.id) : null };
}

/** @internal Delete up to `limit` terminal events last changed before `before`. */
export async function pruneEvents(pool: Pool, p: string, before: Date, limit: number): Promise<number> {
  const result = await runQuery<{ affectedRows: number }>(
    pool,
    'prune',
    `DELETE FROM \`${p}events\` WHERE status IN ('done', 'failed', 'cancelled') AND updated_at < ? ORDER BY id LIMIT ?`,
    [before, limit],
  );
  return result.affectedRows;
}
