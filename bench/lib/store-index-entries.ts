/**
 * Secondary-index entries one event's life writes (append, claim, complete), read off the live
 * schema: an insert writes one entry per secondary index; a change writes two (the old entry
 * delete-marked, the new one inserted) in every index holding a column the change rewrites.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';

/** Columns a claim and a completion rewrite (besides updated_at, which no index holds). */
const CLAIM = ['status', 'lease_owner', 'lease_expires_at', 'attempts', 'version', 'seq'];
const COMPLETE = ['status', 'lease_owner', 'lease_expires_at', 'version', 'seq'];

/** Entries written per lifecycle, and the secondary indexes counted. */
export async function indexEntriesPerLifecycle(
  pool: Pool,
  table: string,
): Promise<{ entries: number; indexes: string[] }> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT index_name AS i, column_name AS c FROM information_schema.STATISTICS
     WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY'`,
    [table],
  );
  const columns = new Map<string, string[]>();
  for (const r of rows) columns.set(String(r.i), [...(columns.get(String(r.i)) ?? []), String(r.c)]);
  const touched = (changed: string[]) =>
    [...columns.values()].filter((cols) => cols.some((c) => changed.includes(c))).length;
  return {
    entries: columns.size + 2 * touched(CLAIM) + 2 * touched(COMPLETE),
    indexes: [...columns].map(([name, cols]) => `${name} (${cols.join(', ')})`),
  };
}
