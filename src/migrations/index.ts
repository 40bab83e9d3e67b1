/** Migrations: the umzug-driven migrator (the `maint migrate` use cases live in src/core/migrate/). */
export { createMigrator, type CreateMigratorOptions, type MigrationContext } from './sql-migrator.js';
export type { MigrationDb, MigrationRows } from './module.js';
export type {
  AppliedMigration,
  ChangedMigration,
  DownOptions,
  MigrationInfo,
  MigrationProgress,
  Migrator,
  PendingMigration,
  UpOptions,
} from './migrator.js';
export { splitStatements } from './split.js';
