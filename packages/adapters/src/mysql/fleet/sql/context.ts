/**
 * What the fleet's SQL operations need: the pool, the table prefix and the resource slots.
 *
 * @internal
 * @module
 */
import type { Pool } from 'mysql2/promise';
import type { FleetSlots } from '../slots.js';

/** @internal */
export interface FleetSqlContext {
  readonly pool: Pool;
  readonly prefix: string;
  readonly slots: FleetSlots;
}
