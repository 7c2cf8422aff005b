/**
 * Delete terminal events older than a date, a bounded number at a time.
 *
 * @module
 */
import type { Pool } from 'mysql2/promise';
import { runQuery } from '../../transaction.js';

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
