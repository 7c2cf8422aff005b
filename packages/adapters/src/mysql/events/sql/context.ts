/**
 * What every SQL operation of the event store needs: the pool, the table prefix and a test hook.
 *
 * @internal
 * @module
 */
import type { Pool } from 'mysql2/promise';

/** @internal */
export interface SqlContext {
  readonly pool: Pool;
  readonly prefix: string;
  /**
   * Test hook, awaited in every write transaction after the row locks it may wait for and before
   * the statements that take the feed counter, write and commit.
   */
  readonly beforeCommit?: ((operation: string) => Promise<void>) | undefined;
}
