/**
 * The one bounded pool each MySQL backend uses, and the transaction helper around it.
 *
 * @module
 */
import { isCtlplaneError, UnsupportedError, ValidationError } from '@ctlplane/core';
import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import { isConnectionError, mapMysqlError } from './errors.js';
import type { ParsedMysqlOptions } from './options.js';

/** @internal A pool plus whether ctlplane owns (and so closes) it. */
export interface ManagedPool {
  readonly pool: Pool;
  readonly owned: boolean;
  /** Connections the pool holds open right now. */
  connections(): number;
  close(): Promise<void>;
}

interface PoolInternals {
  pool?: {
    _allConnections?: { length: number };
    config?: {
      connectionLimit?: number;
      connectionConfig?: { multipleStatements?: boolean; timezone?: string };
    };
  };
}

/** @internal Create (from `url`) or adopt (`pool`) the pool of a backend. */
export function managedPool(o: ParsedMysqlOptions): ManagedPool {
  const pool =
    o.pool ??
    createPool({
      uri: o.url!,
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
    });
  const cfg = (pool as unknown as PoolInternals).pool?.config?.connectionConfig;
  if (o.pool && cfg && (!cfg.multipleStatements || cfg.timezone !== 'Z')) {
    throw new ValidationError('pool: must be created with multipleStatements: true and timezone: "Z"', [
      { path: 'pool', message: 'must be created with multipleStatements: true and timezone: "Z"' },
    ]);
  }
  let closing: Promise<void> | null = null;
  return {
    pool,
    owned: !o.pool,
    connections: () =>
      closing ? 0 : ((pool as unknown as PoolInternals).pool?._allConnections?.length ?? 0),
    close: () => {
      if (!o.pool) closing ??= pool.end();
      return closing ?? Promise.resolve();
    },
  };
}

const BEGIN = 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; ';

/** @internal A transaction on one pooled connection. */
export interface Tx {
  /** The server's id of this connection (`CONNECTION_ID()`). */
  readonly connectionId: number;
  /** Run statements inside the transaction. */
  query<T>(sql: string, params?: unknown[]): Promise<T>;
  /** Run the last statements and COMMIT in the same round trip; returns their results. */
  commit<T>(sql: string, params?: unknown[]): Promise<T>;
}

/**
 * @internal Run `fn` in a READ COMMITTED transaction. Record locks only (no gap locks) keep
 * SKIP LOCKED claims from deadlocking on secondary indexes. Errors are mapped to typed errors;
 * a lost connection before the commit is marked transient.
 */
export async function inTransaction<T>(
  pool: Pool,
  operation: string,
  fn: (tx: Tx) => Promise<T>,
  beforeCommit?: (operation: string) => Promise<void>,
): Promise<T> {
  let conn: PoolConnection;
  try {
    conn = await pool.getConnection();
  } catch (err) {
    throw mapMysqlError(err, operation);
  }
  let committing = false;
  let broken = false;
  let begun = false;
  // The transaction starts with the first statement's round trip, not one of its own. Statement
  // templates never contain ';' except between statements (values are bound as parameters).
  const send = async <R>(sql: string, params: unknown[]): Promise<R> => {
    const prefix = begun ? '' : BEGIN;
    begun = true;
    const [results] = await conn.query(`${prefix}${sql}`, params);
    if (!prefix) return results as R;
    const rest = (results as unknown[]).slice(2);
    return (sql.split(';').length === 1 ? rest[0] : rest) as R;
  };
  const tx: Tx = {
    connectionId: (conn as unknown as { connection: { threadId: number } }).connection.threadId,
    query: (sql, params = []) => send(sql, params),
    commit: async (sql, params = []) => {
      await beforeCommit?.(operation);
      committing = true;
      return send(`${sql}; COMMIT`, params);
    },
  };
  try {
    return await fn(tx);
  } catch (err) {
    broken = isConnectionError(err);
    if (!broken && begun) await conn.query('ROLLBACK').catch(() => (broken = true));
    if (isCtlplaneError(err)) throw err;
    throw mapMysqlError(err, operation, committing);
  } finally {
    if (broken) conn.destroy();
    else conn.release();
  }
}

/** @internal Run one statement outside a transaction, with errors mapped. */
export async function runQuery<T>(
  pool: Pool,
  operation: string,
  sql: string,
  params: unknown[] = [],
): Promise<T> {
  try {
    return (await pool.query(sql, params))[0] as T;
  } catch (err) {
    throw mapMysqlError(err, operation);
  }
}

/** @internal Throw when the server is older than MySQL 8.0 / MariaDB 10.6 (no SKIP LOCKED). */
export async function checkServerVersion(db: Pool | PoolConnection): Promise<string> {
  let rows: { v: string }[];
  try {
    rows = (await db.query('SELECT VERSION() AS v'))[0] as { v: string }[];
  } catch (err) {
    throw mapMysqlError(err, 'version check');
  }
  const version = String(rows[0]?.v ?? '');
  const m = /^(\d+)\.(\d+)/.exec(version);
  const [major, minor] = [Number(m?.[1] ?? 0), Number(m?.[2] ?? 0)];
  const mariadb = /mariadb/i.test(version);
  const ok = mariadb ? major > 10 || (major === 10 && minor >= 6) : major >= 8;
  if (!ok) {
    throw new UnsupportedError(
      `unsupported database server ${version}: ctlplane needs MySQL >= 8.0 or MariaDB >= 10.6 (FOR UPDATE SKIP LOCKED)`,
    );
  }
  return version;
}
