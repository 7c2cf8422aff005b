/**
 * Schema of the MySQL fleet inventory. A server row carries everything a reservation is checked
 * against — capacity and allocation per resource as plain integer columns (resource names map to
 * column slots in `fleet_resources`), group counts and the generation — so reserving is one
 * conditional UPDATE on numbers. The allocations table records each reservation, so they can be
 * released and audited by summing; the fences table serializes work on a key and remembers the
 * fence each released key is retired up to.
 *
 * @module
 */
import { addColumn, createTable, type Migration } from '../migration.js';

/** @internal Resource columns per server: a fleet may name at most this many resources. */
export const FLEET_SLOTS = 10;

const slotColumns = Array.from({ length: FLEET_SLOTS }, (_, i) => [
  `cap${i} BIGINT NOT NULL DEFAULT 0`,
  `used${i} BIGINT NOT NULL DEFAULT 0`,
]).flat();

/** Migrations of the fleet inventory tables. */
export const FLEET_MIGRATIONS: readonly Migration[] = [
  {
    version: 2026113020,
    name: 'fleet servers, resources and allocations',
    up: (p, d) => [
      createTable(p, d, 'fleet_resources', [
        'name VARCHAR(64) NOT NULL',
        'slot TINYINT UNSIGNED NOT NULL',
        'PRIMARY KEY (name)',
        'UNIQUE KEY uq_slot (slot)',
      ]),
      createTable(p, d, 'fleet_servers', [
        'id VARCHAR(191) NOT NULL',
        'region VARCHAR(191) NOT NULL',
        "state ENUM('active','draining','down') NOT NULL DEFAULT 'active'",
        'labels JSON NOT NULL',
        'grp_counts JSON NOT NULL',
        'generation BIGINT UNSIGNED NOT NULL DEFAULT 1',
        'updated_at DATETIME(3) NOT NULL',
        ...slotColumns,
        'PRIMARY KEY (id)',
        'KEY ix_region_state (region, state)',
        'KEY ix_updated_at (updated_at)',
      ]),
      createTable(p, d, 'fleet_allocations', [
        'alloc_key VARCHAR(191) NOT NULL',
        'server_id VARCHAR(191) NOT NULL',
        'demand JSON NOT NULL',
        'grp VARCHAR(128) NULL',
        'created_at DATETIME(3) NOT NULL',
        'PRIMARY KEY (alloc_key)',
        'KEY ix_server (server_id)',
      ]),
    ],
  },
  {
    version: 2026113021,
    name: 'fleet allocation fences',
    // Re-runnable after a crash on MariaDB; see addColumn for MySQL.
    up: (p, d) => [addColumn(p, d, 'fleet_allocations', 'fence BIGINT UNSIGNED NULL')],
  },
  {
    version: 2026113022,
    name: 'fleet key fences',
    // One row per key reserved or released: every reserve and release of a key locks it first (so
    // they serialize per key even when no reservation exists), and a release records the fence the
    // key is retired up to (NULL: not retired), so a late decision cannot reserve it again.
    up: (p, d) => [
      createTable(p, d, 'fleet_fences', [
        'alloc_key VARCHAR(191) NOT NULL',
        'retired BIGINT UNSIGNED NULL',
        'updated_at DATETIME(3) NOT NULL',
        'PRIMARY KEY (alloc_key)',
        'KEY ix_updated_at (updated_at)',
      ]),
    ],
  },
  {
    version: 2026120620,
    name: 'fleet fences: the reserving batch',
    // A reserve batch is one UPDATE per level (see sql/reserve-levels.ts); the rows that applied
    // stamp their key's fence row with the batch's token, which is how the batch reads them back.
    up: (p, d) => [addColumn(p, d, 'fleet_fences', 'txn BIGINT UNSIGNED NULL')],
  },
];
