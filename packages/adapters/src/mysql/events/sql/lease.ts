/**
 * Lease renewal and release: one conditional update by primary key; no feed entry (the status
 * does not change).
 *
 * @module
 */
import { ConflictError, NotFoundError, type StoredEvent } from '@ctlplane/core';
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { runQuery } from '../../transaction.js';
import { EVENT_COLUMNS, toEvent } from '../rows.js';

const NOW = 'UTC_TIMESTAMP(3)';

/** @internal Renew (`leaseMs` > 0) or release (`leaseMs` = 0) the lease `owner` holds. */
export async function changeLease(
  pool: Pool,
  p: string,
  id: number,
  owner: string,
  leaseMs: number,
): Promise<StoredEvent> {
  const [result, rows] = await runQuery<[ResultSetHeader, RowDataPacket[]]>(
    pool,
    leaseMs > 0 ? 'renew' : 'release',
    `UPDATE \`${p}events\` SET lease_expires_at = DATE_ADD(${NOW}, INTERVAL ? MICROSECOND), version = version + 1, updated_at = ${NOW}
       WHERE id = ? AND lease_owner = ? AND lease_expires_at > ${NOW} AND status IN ('pending', 'claimed', 'running');
     SELECT ${EVENT_COLUMNS} FROM \`${p}events\` WHERE id = ?`,
    [leaseMs * 1000, id, owner, id],
  );
  if (rows.length === 0) throw new NotFoundError(`event ${id} not found`);
  if (result.affectedRows === 0)
    throw new ConflictError(`event ${id}: no live lease held by this owner`, { id });
  return toEvent(rows[0]);
}
