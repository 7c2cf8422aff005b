/**
 * Schema of the relay cursors (one row per relay, the last position it published) and of the
 * changes a relay parked (one row per event version it could never publish).
 *
 * @module
 */
import { createTable, type Migration } from '../migration.js';

/** Migrations of the relay tables. */
export const RELAY_MIGRATIONS: readonly Migration[] = [
  {
    version: 2026113011,
    name: 'relay cursors',
    up: (p, d) => [
      createTable(p, d, 'relay_cursors', [
        'name VARCHAR(191) NOT NULL PRIMARY KEY',
        'cursor_pos BIGINT UNSIGNED NOT NULL',
        'updated_at DATETIME(3) NOT NULL',
      ]),
    ],
  },
  {
    version: 2026120630,
    name: 'relay parked changes',
    up: (p, d) => [
      // One row per change a relay could never publish; the primary key makes parking idempotent.
      createTable(p, d, 'relay_parked', [
        'name VARCHAR(191) NOT NULL',
        'event_id BIGINT UNSIGNED NOT NULL',
        'version INT UNSIGNED NOT NULL',
        'seq BIGINT NOT NULL',
        'reason VARCHAR(1000) NOT NULL',
        'parked_at DATETIME(3) NOT NULL',
        'PRIMARY KEY (name, event_id, version)',
        'KEY ix_name_seq (name, seq)',
      ]),
    ],
  },
];
