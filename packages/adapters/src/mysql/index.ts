/**
 * `@ctlplane/adapters/mysql`: MySQL ≥ 8.0 / MariaDB ≥ 10.6 backends on mysql2 (an optional peer
 * dependency: `npm install mysql2`).
 *
 * @packageDocumentation
 */
export type { Migration, SqlDialect } from './migration.js';
export { MIGRATIONS, type MigrateResult, migrate } from './migrations.js';
export { MysqlCursorStore } from './mysql-cursor-store.js';
export { MysqlEventStoreDriver, type MysqlEventStoreOptions } from './mysql-event-store.js';
export { MysqlFleetDriver, type MysqlFleetOptions } from './mysql-fleet.js';
export { type MysqlOptions, TABLE_PREFIX_PATTERN } from './options.js';
