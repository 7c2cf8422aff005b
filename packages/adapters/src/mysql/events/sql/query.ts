/**
 * Paged queries in id order: a plain, non-locking read.
 *
 * @module
 */
import type { EventPage } from '@ctlplane/core';
import type { DriverQuery } from '@ctlplane/core/driver';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { runQuery } from '../../transaction.js';
import { conditions } from '../../where.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';

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
