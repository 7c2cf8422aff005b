/**
 * Schema of the MySQL event store. Indexes serve the hot queries (see docs/event-store.md):
 * the claim candidate scans, the feed and the expired-lease scan.
 *
 * @module
 */
import type { Migration } from '../migration.js';

/** @internal Status stored as an ENUM: one byte, and only lifecycle values fit. */
export const STATUS_ENUM = "ENUM('pending','placed','claimed','running','done','failed','cancelled')";

/** Migrations of the event store tables. */
export const EVENT_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 2026113010,
    name: 'events table and feed sequence',
    up: (p, d) => [
      `CREATE TABLE IF NOT EXISTS \`${p}events\` (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        seq BIGINT NOT NULL,
        type VARCHAR(191) NOT NULL,
        region VARCHAR(191) NOT NULL,
        server_id VARCHAR(191) NULL,
        status ${STATUS_ENUM} NOT NULL,
        attempts INT UNSIGNED NOT NULL DEFAULT 0,
        lease_owner VARCHAR(191) NULL,
        lease_expires_at DATETIME(3) NULL,
        idempotency_key VARCHAR(191) NULL,
        payload LONGTEXT NOT NULL,
        error TEXT NULL,
        result LONGTEXT NULL,
        version INT UNSIGNED NOT NULL DEFAULT 1,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_idempotency_key (idempotency_key),
        KEY ix_seq (seq),
        KEY ix_region_seq (region, seq),
        KEY ix_status_server (status, server_id, id),
        KEY ix_status_region (status, region, id),
        KEY ix_status_lease (status, lease_expires_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${d.binaryCollation}`,
      `CREATE TABLE IF NOT EXISTS \`${p}feed_seq\` (
        id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
        v BIGINT UNSIGNED NOT NULL
      ) ENGINE=InnoDB`,
      `INSERT IGNORE INTO \`${p}feed_seq\` (id, v) VALUES (1, 0)`,
    ],
  },
  {
    version: 2026120610,
    name: 'events: one feed index (seq, region)',
    // The feed reads by position, with or without a region: one index serves both, and every
    // change rewrites one feed index entry instead of two. Positions are unchanged, so a cursor
    // taken before this migration stays valid after it. MySQL has no IF [NOT] EXISTS here; its
    // atomic DDL leaves the old or the new index set, so a re-run after a crash fails loudly.
    up: (p, d) => {
      const add = d.mariadb ? 'ADD INDEX IF NOT EXISTS' : 'ADD INDEX';
      const drop = d.mariadb ? 'DROP INDEX IF EXISTS' : 'DROP INDEX';
      return [
        `ALTER TABLE \`${p}events\` ${add} ix_seq_region (seq, region), ${drop} ix_seq, ${drop} ix_region_seq`,
      ];
    },
  },
];
