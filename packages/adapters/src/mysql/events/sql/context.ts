/**
 * What every SQL operation of the event store needs: the pool, the table prefix and a test hook.
 *
 * @internal
 * @module
 */
import type { Pool } from 'mysql2/promise';
import type { TxHooks } from '../../transaction.js';

/** @internal */
export interface SqlContext {
  readonly pool: Pool;
  readonly prefix: string;
  /** Test hooks of every write transaction. */
  readonly hooks?: TxHooks | undefined;
}
