import { randomBytes } from 'node:crypto';
import { createPool, type Pool, type PoolOptions } from 'mysql2/promise';
import { mysqlUrl } from './services.js';

/** A pool on the test database (`CTLPLANE_MYSQL_URL`). */
export function testPool(options: Partial<PoolOptions> = {}): Pool {
  return createPool({ uri: mysqlUrl(), connectionLimit: 8, ...options });
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
