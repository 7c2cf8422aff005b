/**
 * The tables a benchmark's migrations make under one table prefix, and how to drop them.
 */
import type { Pool } from 'mysql2/promise';

/** Every table ctlplane's migrations create (events, feed, relay, fleet, migrations). */
export const CTLPLANE_TABLES = [
  'events',
  'feed_seq',
  'migrations',
  'relay_cursors',
  'relay_parked',
  'fleet_resources',
  'fleet_servers',
  'fleet_allocations',
  'fleet_fences',
] as const;

/** Drop every ctlplane table under `prefix`. */
export async function dropTables(pool: Pool, prefix: string): Promise<void> {
  for (const t of CTLPLANE_TABLES) await pool.query(`DROP TABLE IF EXISTS \`${prefix}${t}\``);
}
