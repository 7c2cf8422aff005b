/**
 * Transactions and single round trips on a backend's pool, with driver errors mapped to typed
 * errors once.
 *
 * @internal
 * @module
 */
import { isCtlplaneError } from '@ctlplane/core';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { isConnectionError, mapMysqlError } from './errors.js';
import { noteNodeError } from './failover-pool.js';
import { nameResults, type Results, type Statement, scriptText } from './round-trip.js';

const BEGIN: readonly Statement[] = [
  { sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED' },
  { sql: 'START TRANSACTION' },
];
const COMMIT: Statement = { sql: 'COMMIT' };

/**
 * @internal Test hooks of a write transaction (each splits the last round trip where it runs).
 * `beforeWrite` runs after the row locks the transaction may wait for and before it takes the
 * feed counter; `beforeCommit` after its writes (counter held, changes not yet committed), just
 * before COMMIT.
 */
export interface TxHooks {
  readonly beforeWrite?: ((operation: string) => Promise<void>) | undefined;
  readonly beforeCommit?: ((operation: string) => Promise<void>) | undefined;
}

/** @internal A transaction on one pooled connection. */
export interface Tx {
  /** Run statements inside the transaction, in one round trip. */
  run(statements: readonly Statement[]): Promise<Results>;
  /**
   * Run the last statements and COMMIT in the same round trip. `locking` statements (row locks
   * the transaction may wait for) run first in that round trip. Test hooks split it: locking,
   * `beforeWrite`, statements, `beforeCommit`, COMMIT.
   */
  commit(statements: readonly Statement[], locking?: readonly Statement[]): Promise<Results>;
}

/**
 * @internal Run `fn` in a READ COMMITTED transaction: record locks only, no gap locks. The
 * transaction starts with the first statement's round trip, not one of its own. Errors are
 * mapped to typed errors. A connection lost in the round trip that carries the COMMIT leaves the
 * outcome unknown (`UnavailableError`, not transient: never retried blindly); the event store's
 * writes send BEGIN … COMMIT in that one round trip, so for them any connection lost once the
 * statements are sent is "outcome unknown". Only a loss before that round trip (getting the
 * connection, an earlier round trip of a fleet transaction) is transient, and retried.
 */
export async function inTransaction<T>(
  pool: Pool,
  operation: string,
  fn: (tx: Tx) => Promise<T>,
  hooks: TxHooks = {},
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
  const send = async (statements: readonly Statement[]): Promise<Results> => {
    const all = begun ? statements : [...BEGIN, ...statements];
    begun = true;
    const { sql, params } = scriptText(all);
    const [raw] = await conn.query(sql, params);
    return nameResults(all, raw);
  };
  const tx: Tx = {
    run: send,
    commit: async (statements, locking = []) => {
      const { beforeWrite, beforeCommit } = hooks;
      if (!beforeWrite && !beforeCommit) {
        committing = true;
        return send([...locking, ...statements, COMMIT]);
      }
      let results = locking.length > 0 ? await send(locking) : null;
      await beforeWrite?.(operation);
      const merge = (r: Results) => (results ? results.merge(r) : r);
      if (beforeCommit) {
        results = merge(await send(statements));
        await beforeCommit(operation);
        committing = true;
        return merge(await send([COMMIT]));
      }
      committing = true;
      return merge(await send([...statements, COMMIT]));
    },
  };
  try {
    return await fn(tx);
  } catch (err) {
    noteNodeError(pool, err);
    broken = isConnectionError(err);
    if (!broken && begun) await conn.query('ROLLBACK').catch(() => (broken = true));
    if (isCtlplaneError(err)) throw err;
    throw mapMysqlError(err, operation, committing);
  } finally {
    if (broken) conn.destroy();
    else conn.release();
  }
}

/** @internal Run statements outside a transaction (each autocommits), in one round trip. */
export async function runScript(
  pool: Pool,
  operation: string,
  statements: readonly Statement[],
): Promise<Results> {
  const { sql, params } = scriptText(statements);
  try {
    return nameResults(statements, (await pool.query(sql, params))[0]);
  } catch (err) {
    throw mapMysqlError(err, operation);
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
