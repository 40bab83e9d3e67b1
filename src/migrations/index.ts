/** Migrations: the umzug-driven migrator and the core functions behind `maint migrate`. */
export { createMigrator, type CreateMigratorOptions, type MigrationContext } from './sql-migrator.js';
export {
  createMigration,
  migrate,
  migrateDown,
  migrationStatus,
  type CreatedMigration,
  type MigrateDownOptions,
  type MigrateOptions,
  type MigrateResult,
  type MigrateStep,
  type MigrationStatus,
} from './migrate.js';
export type {
  AppliedMigration,
  DownOptions,
  MigrationInfo,
  MigrationProgress,
  Migrator,
  UpOptions,
} from './migrator.js';
export { splitStatements } from './split.js';
