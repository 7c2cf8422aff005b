/**
 * The database a store benchmark runs on: `--mysql <url>[,<url>…]`, else `CTLPLANE_MYSQL_URL`,
 * else the local MariaDB. Several URLs are the nodes of a Galera cluster (`npm run cluster -- up`):
 * every pool of the benchmark, the baselines' too, then writes through the writer node the
 * backends choose, so both sides of each comparison pay the cluster's cost.
 */
import type { Pool, PoolOptions } from 'mysql2/promise';
import { poolForUrls } from '../../test/support/mysql.js';

/** Where a benchmark's MySQL work goes. */
export interface MysqlTarget {
  /** One URL, or a comma-separated node list (as the backends' `url` takes it). */
  readonly url: string;
  readonly urls: readonly string[];
  /** True for a node list. */
  readonly cluster: boolean;
}

/** Parse `--mysql` (or the environment). */
export function mysqlTarget(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): MysqlTarget {
  const i = argv.indexOf('--mysql');
  const url =
    (i >= 0 ? argv[i + 1] : undefined) ?? env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
  const urls = url.split(',').map((u) => u.trim());
  if (urls.some((u) => !u.startsWith('mysql://')))
    throw new Error(`--mysql: not a mysql:// URL list: ${url}`);
  return { url: urls.join(','), urls, cluster: urls.length > 1 };
}

/** A raw mysql2 pool on the target (on a cluster: on the writer node, failing over like the backends). */
export function targetPool(t: MysqlTarget, options: Omit<PoolOptions, 'uri'> = {}): Pool {
  return poolForUrls(t.url, options);
}
