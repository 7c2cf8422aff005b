/**
 * The one bounded pool each MySQL backend uses, and the checks a pool must pass before use.
 *
 * @module
 */
import { UnsupportedError, ValidationError } from '@ctlplane/core';
import {
  createPool,
  type Pool,
  type PoolConnection,
  type PoolOptions,
  type RowDataPacket,
} from 'mysql2/promise';
import { mapMysqlError } from './errors.js';
import { FailoverPool } from './failover-pool.js';
import type { ParsedMysqlOptions } from './options.js';

/** @internal A pool plus whether ctlplane owns (and so closes) it. */
export interface ManagedPool {
  readonly pool: Pool;
  readonly owned: boolean;
  /** Connections the pool holds open right now. */
  connections(): number;
  close(): Promise<void>;
}

/** The pool's raw connections emit `end` when closed (idle timeout, error, pool end). */
interface Closable {
  once(event: 'end' | 'error', listener: () => void): unknown;
}

/** @internal The mysql2 options of every pool ctlplane creates (one per node). */
function poolConfig(o: ParsedMysqlOptions): Omit<PoolOptions, 'uri'> {
  return {
    connectionLimit: o.poolSize,
    maxIdle: o.poolSize,
    idleTimeout: 60_000,
    queueLimit: 10_000,
    multipleStatements: true,
    timezone: 'Z',
    charset: 'UTF8MB4_BIN',
    supportBigNumbers: true,
    connectTimeout: o.connectTimeoutMs,
    enableKeepAlive: true,
  };
}

/**
 * @internal Create (from `url` / `urls`) or adopt (`pool`) the pool of a backend. Several URLs
 * make a {@link FailoverPool}, typed as the `Pool` whose part the backends use.
 */
export function managedPool(o: ParsedMysqlOptions): ManagedPool {
  const pool: Pool =
    o.pool ??
    (o.urls.length > 1
      ? (new FailoverPool(
          o.urls,
          poolConfig(o),
          Math.min(o.connectTimeoutMs, 5_000),
          o.logger.child('mysql:nodes'),
        ) as unknown as Pool)
      : createPool({ ...poolConfig(o), uri: o.urls[0]! }));
  // Counted from the pool's own events (an adopted pool's earlier connections are not seen).
  let open = 0;
  pool.on('connection', (conn) => {
    open++;
    let gone = false;
    const drop = () => {
      if (!gone) open--;
      gone = true;
    };
    const raw = conn as unknown as Closable;
    raw.once('end', drop);
    raw.once('error', drop);
  });
  let closing: Promise<void> | null = null;
  return {
    pool,
    owned: !o.pool,
    connections: () => (closing ? 0 : open),
    close: () => {
      if (!o.pool) closing ??= pool.end();
      return closing ?? Promise.resolve();
    },
  };
}

function rule(message: string): ValidationError {
  return new ValidationError(`pool: ${message}`, [{ path: 'pool', message }]);
}

/**
 * @internal Check that the server is MySQL ≥ 8.0 or MariaDB ≥ 10.6 (SKIP LOCKED, JSON_TABLE)
 * and that the pool runs multi-statements and reads DATETIME as UTC (an adopted pool must be
 * created with `multipleStatements: true` and `timezone: 'Z'`). Returns the server version.
 */
export async function checkServerVersion(db: Pool | PoolConnection): Promise<string> {
  let version: string;
  let utc: unknown;
  try {
    const [results] = await db.query<RowDataPacket[][]>(
      "SELECT VERSION() AS v; SELECT CAST('2000-01-01 00:00:00' AS DATETIME(3)) AS d",
    );
    version = String(results[0]?.[0]?.v ?? '');
    utc = results[1]?.[0]?.d;
  } catch (err) {
    if ((err as { errno?: number }).errno === 1064)
      throw rule('must be created with multipleStatements: true');
    throw mapMysqlError(err, 'version check');
  }
  if (!(utc instanceof Date) || utc.toISOString() !== '2000-01-01T00:00:00.000Z') {
    throw rule('must be created with timezone: "Z"');
  }
  const m = /^(\d+)\.(\d+)/.exec(version);
  const [major, minor] = [Number(m?.[1] ?? 0), Number(m?.[2] ?? 0)];
  const mariadb = /mariadb/i.test(version);
  const ok = mariadb ? major > 10 || (major === 10 && minor >= 6) : major >= 8;
  if (!ok) {
    throw new UnsupportedError(
      `unsupported database server ${version}: ctlplane needs MariaDB >= 10.6 (FOR UPDATE SKIP LOCKED; tested on 10.11; MySQL >= 8.0 is accepted but untested)`,
    );
  }
  return version;
}
