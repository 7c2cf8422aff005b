/**
 * `@ctlplane/adapters/mysql`: MariaDB ≥ 10.6 backends (MySQL ≥ 8.0 accepted, untested) on mysql2 (an optional peer
 * dependency: `npm install mysql2`).
 *
 * @packageDocumentation
 */

export { EVENT_STORE_MIGRATIONS } from './events/migrations.js';
export { MysqlEventStoreDriver, type MysqlEventStoreOptions } from './events/mysql-event-store.js';
export { FLEET_MIGRATIONS } from './fleet/migrations.js';
export { MysqlFleetDriver, type MysqlFleetOptions } from './fleet/mysql-fleet.js';
export { MIGRATIONS, type MigrateOptions, type MigrateResult, migrate } from './migrate.js';
export type { Migration, SqlDialect } from './migration.js';
export { type MysqlOptions, TABLE_PREFIX_PATTERN } from './options.js';
export { RELAY_MIGRATIONS } from './relay/migrations.js';
export { MysqlCursorStore } from './relay/mysql-cursor-store.js';
