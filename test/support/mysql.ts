import { randomBytes } from 'node:crypto';
import { noopLogger } from '@ctlplane/core';
import { createPool, type Pool, type PoolOptions } from 'mysql2/promise';
import { FailoverPool } from '../../packages/adapters/src/mysql/failover-pool.js';
import { mysqlUrl } from './services.js';

/**
 * A pool on the test database (`CTLPLANE_MYSQL_URL`); see {@link poolForUrls} for a node list (the
 * `galera` project).
 */
export function testPool(options: Partial<PoolOptions> = {}): Pool {
  return poolForUrls(mysqlUrl(), { connectionLimit: 8, ...options });
}

/**
 * A mysql2 pool on `url`: one URL, or a comma-separated node list. A node list gives a pool on the
 * same writer node the stores choose (failing over as they do), so the caller's own reads and
 * writes never go through a second node. The benchmarks' pools are these too.
 */
export function poolForUrls(url: string, options: PoolOptions = {}): Pool {
  const urls = url.split(',');
  if (urls.length > 1) return new FailoverPool(urls, options, 5_000, noopLogger) as unknown as Pool;
  return createPool({ uri: url, ...options });
}

/** A fresh table prefix so parallel test files never share tables, e.g. `t_3fa9c2_`. */
export function uniquePrefix(tag = 't'): string {
  return `${tag}_${randomBytes(4).toString('hex')}_`;
}

/** Drop every table whose name starts with `prefix`. */
export async function dropPrefixed(pool: Pool, prefix: string): Promise<void> {
  const [rows] = await pool.query<import('mysql2').RowDataPacket[]>(
    'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
    [`${prefix.replaceAll('_', '\\_')}%`],
  );
  for (const r of rows) await pool.query(`DROP TABLE IF EXISTS \`${String(r.t)}\``);
}
