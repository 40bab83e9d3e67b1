/**
 * Read-only views over a plan's database for `maint plan`, `maint gate` and `maint status`:
 * they never lock, never write the journal and never touch the banner.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Database, LockHolder } from '../db/database.js';
import type { Migrator, MigrationInfo } from '../migrations/migrator.js';
import type { Logger } from '../output/logger.js';
import type { LoadedPlan } from '../plan/loader.js';
import { DatabaseJournal } from './journal-db.js';
import type { Journal } from './journal.js';
import { readPlanWork, type PlanWork } from '../operations/pending.js';

export interface InspectDeps {
  openDatabase(loaded: LoadedPlan, logger?: Logger): Promise<Database>;
  createMigrator(db: Database, loaded: LoadedPlan): Promise<Migrator>;
  journal(db: Database): Journal;
}

export async function defaultInspectDeps(): Promise<InspectDeps> {
  return {
    openDatabase: async (loaded, logger) =>
      (await import('../db/index.js')).openDatabase(
        await readOnlyConfig(loaded),
        loaded.dir,
        logger ? { logger } : {},
      ),
    createMigrator: async (db, loaded) =>
      (await import('../migrations/index.js')).createMigrator(db, loaded.plan.migrations, loaded.dir),
    journal: (db) => new DatabaseJournal(db),
  };
}

/**
 * A PGlite data folder that does not exist yet is an empty database; opening it would create
 * it, and these views must change nothing, so they read an empty in-memory database instead.
 */
async function readOnlyConfig(loaded: LoadedPlan): Promise<LoadedPlan['plan']['database']> {
  const config = loaded.plan.database;
  if (config.engine !== 'pglite' || /^memory(:\/\/)?$/.test(config.url)) return config;
  const folder = path.resolve(loaded.dir, config.url.replace(/^file:\/\//, ''));
  const exists = await stat(folder).then(
    () => true,
    () => false,
  );
  return exists ? config : { ...config, url: 'memory://' };
}

export interface Snapshot {
  db: Database;
  journal: Journal;
  migrator: Migrator;
  pending: MigrationInfo[];
  /** Pending migrations and operations; `migrator` above is the one it read them with. */
  work: PlanWork;
  lock: LockHolder | null;
}

/** Open the database, read what the views need, and close it again. */
export async function withSnapshot<T>(
  loaded: LoadedPlan,
  deps: Partial<InspectDeps> | undefined,
  fn: (s: Snapshot) => Promise<T>,
  logger?: Logger,
): Promise<T> {
  const d = {
    ...(deps?.openDatabase && deps.createMigrator && deps.journal ? {} : await defaultInspectDeps()),
    ...deps,
  } as InspectDeps;
  const db = await d.openDatabase(loaded, logger);
  try {
    const journal = d.journal(db);
    const [work, lock] = await Promise.all([
      readPlanWork(loaded, await d.createMigrator(db, loaded), journal),
      db.lockStatus(loaded.plan.name),
    ]);
    return await fn({ db, journal, migrator: work.migrator, pending: work.pending, work, lock });
  } finally {
    await db.close().catch(() => undefined);
  }
}
