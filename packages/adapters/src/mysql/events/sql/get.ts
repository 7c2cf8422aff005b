/**
 * Read one event by id: a plain, non-locking read.
 *
 * @module
 */
import type { StoredEvent } from '@ctlplane/core';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { runQuery } from '../../transaction.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';

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
