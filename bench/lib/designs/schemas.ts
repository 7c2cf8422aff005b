/**
 * Table shapes the claim designs run on: the landed events table of main 8d054bf (six secondary
 * indexes), the one `migrate()` creates now, and the naive design's table (one index on status,
 * no feed). Tables are `<prefix>events` and `<prefix>feed_seq`, as the store names them.
 */

import type { Pool } from 'mysql2/promise';
import { migrate } from '../../../packages/adapters/src/mysql/index.js';
import { dropTables } from '../tables.js';

export type SchemaName = 'landed' | 'trimmed' | 'naive';

/** (Re)create the tables of `schema` under `prefix`. */
export async function createTables(
  pool: Pool,
  url: string,
  prefix: string,
  schema: SchemaName,
): Promise<void> {
  await dropTables(pool, prefix);
  if (schema === 'naive') {
    await pool.query(`CREATE TABLE \`${prefix}events\` (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      type VARCHAR(191) NOT NULL, region VARCHAR(191) NOT NULL, server_id VARCHAR(191) NULL,
      status VARCHAR(32) NOT NULL, owner VARCHAR(191) NULL, payload LONGTEXT NOT NULL,
      created_at DATETIME(3) NOT NULL, updated_at DATETIME(3) NOT NULL, KEY ix_status (status)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    return;
  }
  await migrate({ url, tablePrefix: prefix });
  if (schema === 'landed') {
    // The index set of main 8d054bf: two feed indexes instead of ix_seq_region.
    await pool.query(
      `ALTER TABLE \`${prefix}events\` ADD INDEX ix_seq (seq), ADD INDEX ix_region_seq (region, seq), DROP INDEX ix_seq_region`,
    );
  }
}

/** Fill `<prefix>events` with `n` placed events on servers hv-0 … hv-49 (not timed). */
export async function fill(pool: Pool, prefix: string, schema: SchemaName, n: number): Promise<void> {
  const payload = JSON.stringify({ vcpus: 2, memoryMb: 1024, image: 'ubuntu-24.04' });
  const t = `\`${prefix}events\``;
  for (let i = 0; i < n; i += 1_000) {
    const k = Math.min(1_000, n - i);
    const rows = Array.from({ length: k }, (_, j) =>
      schema === 'naive'
        ? ['droplet.create', 'nyc1', `hv-${(i + j) % 50}`, 'placed', payload]
        : [i + j + 1, 'droplet.create', 'nyc1', `hv-${(i + j) % 50}`, 'placed', payload],
    );
    const cols = schema === 'naive' ? '' : 'seq, ';
    const marks =
      schema === 'naive'
        ? '(?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))'
        : '(?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))';
    await pool.query(
      `INSERT INTO ${t} (${cols}type, region, server_id, status, payload, created_at, updated_at) VALUES ${rows.map(() => marks).join(', ')}`,
      rows.flat(),
    );
  }
  if (schema !== 'naive') await pool.query(`UPDATE \`${prefix}feed_seq\` SET v = ? WHERE id = 1`, [n]);
}
