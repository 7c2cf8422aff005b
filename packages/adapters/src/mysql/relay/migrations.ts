/**
 * Schema of the relay cursors (one row per relay, the last position it published).
 *
 * @module
 */
import type { Migration } from '../migration.js';

/** Migrations of the relay cursor table. */
export const RELAY_MIGRATIONS: readonly Migration[] = [
  {
    version: 2026113011,
    name: 'relay cursors',
    up: (p, d) => [
      `CREATE TABLE IF NOT EXISTS \`${p}relay_cursors\` (
        name VARCHAR(191) NOT NULL PRIMARY KEY,
        cursor_pos BIGINT UNSIGNED NOT NULL,
        updated_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${d.binaryCollation}`,
    ],
  },
];
