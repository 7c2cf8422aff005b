/**
 * Schema of the MySQL event store. Indexes serve the hot queries (see docs/event-store.md):
 * the claim candidate scans, the feed and the expired-lease scan.
 *
 * @module
 */
import { MAX_TRACESTATE_LENGTH } from '@ctlplane/core';
import { addColumns, type Migration } from '../migration.js';

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
    name: 'events: indexes of the one-round-trip claims and the single feed index',
    // The feed reads by position, with or without a region: one (seq, region) index serves both,
    // and every change rewrites one feed index entry instead of two. The claim windows read
    // unleased (or lease-expired) candidates of a status and server, or of a status and region,
    // in id order straight from an index: the lease joins those two indexes (without it MariaDB
    // intersected two indexes and sorted). Positions are unchanged, so a cursor taken before this
    // migration stays valid after it. Dropping first keeps a re-run after a crash safe on MariaDB
    // (IF [NOT] EXISTS); MySQL has no IF [NOT] EXISTS here, so a re-run there fails loudly.
    up: (p, d) => {
      const add = d.mariadb ? 'ADD INDEX IF NOT EXISTS' : 'ADD INDEX';
      const drop = d.mariadb ? 'DROP INDEX IF EXISTS' : 'DROP INDEX';
      const t = `\`${p}events\``;
      return [
        `ALTER TABLE ${t} ${add} ix_seq_region (seq, region), ${drop} ix_seq, ${drop} ix_region_seq`,
        // IF NOT EXISTS is judged before the statement runs: drop and add in statements of their own.
        `ALTER TABLE ${t} ${drop} ix_status_server, ${drop} ix_status_region`,
        `ALTER TABLE ${t} ${add} ix_status_server (status, server_id, lease_expires_at), ${add} ix_status_region (status, region, lease_expires_at)`,
      ];
    },
  },
  {
    version: 2026120710,
    name: 'events: W3C trace context of the creating caller',
    // Nullable columns at the end of the row, without a default: MariaDB 10.3+ and MySQL 8.0.12+
    // add them instantly (metadata only, no table copy, no lock beyond the DDL's own), so a large
    // table is upgraded at once; rows already there read back with no trace context. Not indexed:
    // nothing searches by trace. Re-runnable after a crash on MariaDB; see addColumns for MySQL.
    up: (p, d) => [
      addColumns(p, d, 'events', [
        'trace_parent VARCHAR(55) NULL',
        `trace_state VARCHAR(${MAX_TRACESTATE_LENGTH}) NULL`,
      ]),
    ],
  },
];
