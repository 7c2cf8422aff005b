/**
 * The 2012 design, for comparison in the same run: one event per transaction, and a claim that
 * is a plain `SELECT … FOR UPDATE` on an index on `status` (no SKIP LOCKED), under the default
 * REPEATABLE READ. Also the "naive SKIP LOCKED" claim the issue warns about.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { idle } from './store-runs.js';

export const BASELINE_DDL = (t: string) => [
  `DROP TABLE IF EXISTS ${t}`,
  `CREATE TABLE ${t} (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    type VARCHAR(191) NOT NULL, region VARCHAR(191) NOT NULL, server_id VARCHAR(191) NULL,
    status VARCHAR(32) NOT NULL, owner VARCHAR(191) NULL, payload LONGTEXT NOT NULL,
    created_at DATETIME(3) NOT NULL, updated_at DATETIME(3) NOT NULL,
    KEY ix_status (status)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

/** Counters shared by baseline workers. */
export interface BaselineStats {
  done: number;
  deadlocks: number;
  lockWaitTimeouts: number;
  doubleClaims: number;
}

export async function baselineAppend(pool: Pool, t: string, payload: string): Promise<void> {
  await pool.query(
    `INSERT INTO ${t} (type, region, server_id, status, payload, created_at, updated_at) VALUES ('droplet.create', 'nyc1', 'hv-1', 'placed', ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
    [payload],
  );
}

/** One worker of the 2012 design (or the naive SKIP LOCKED variant): one event per transaction. */
export async function baselineWorker(
  pool: Pool,
  t: string,
  owner: string,
  skipLocked: boolean,
  stats: BaselineStats,
  seen: Set<number>,
  batch = 1,
): Promise<void> {
  for (;;) {
    const conn = await pool.getConnection();
    try {
      await conn.query('START TRANSACTION');
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT id FROM ${t} WHERE status = 'placed' ORDER BY id LIMIT ? FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
        [batch],
      );
      if (rows.length === 0) {
        await conn.query('COMMIT');
        const [left] = await conn.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM ${t} WHERE status IN ('placed', 'claimed')`,
        );
        if (Number(left[0]!.n) === 0) return;
        await idle();
        continue;
      }
      const ids = rows.map((r) => Number(r.id));
      await conn.query(
        `UPDATE ${t} SET status = 'claimed', owner = ?, updated_at = UTC_TIMESTAMP(3) WHERE id IN (?)`,
        [owner, ids],
      );
      await conn.query('COMMIT');
      for (const id of ids) {
        if (seen.has(id)) stats.doubleClaims++;
        seen.add(id);
      }
      await conn.query(`UPDATE ${t} SET status = 'done', updated_at = UTC_TIMESTAMP(3) WHERE id IN (?)`, [
        ids,
      ]);
      stats.done += ids.length;
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => {});
      const errno = (err as { errno?: number }).errno;
      if (errno === 1213) stats.deadlocks++;
      else if (errno === 1205) stats.lockWaitTimeouts++;
      else throw err;
    } finally {
      conn.release();
    }
  }
}

/**
 * Plain multi-row INSERTs of `batch` rows into the events table `t` (the store's own schema), from
 * `connections` connections at once: no feed counter, no idempotency check, no validation.
 */
export async function rawInsertRate(
  pool: Pool,
  t: string,
  batch: number,
  total: number,
  connections: number,
): Promise<number> {
  const payload = JSON.stringify({ vcpus: 1, memoryMb: 1024, image: 'ubuntu-24.04' });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < total) {
        const first = next;
        next += batch;
        const rows = Array.from({ length: batch }, (_, i) => [
          -(first + i + 1),
          'droplet.create',
          'nyc1',
          null,
          'pending',
          null,
          payload,
        ]);
        await pool.query(
          `INSERT INTO ${t} (seq, type, region, server_id, status, idempotency_key, payload, created_at, updated_at) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))').join(', ')}`,
          rows.flat(),
        );
      }
    }),
  );
  return (Math.ceil(total / batch) * batch) / ((performance.now() - t0) / 1000);
}
