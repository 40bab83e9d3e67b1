/**
 * Read-only views over a plan's database for `maint plan`, `maint gate` and `maint status`:
 * they never lock, never write the journal and never touch the banner.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Database, LockHolder } from '../../db/database.js';
import type { ChangedMigration, Migrator, PendingMigration } from '../../migrations/migrator.js';
import { readPlanWork, type PlanWork } from '../../operations/pending.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { Journal } from '../journal/journal.js';
import type { Ports } from '../ports.js';

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
  pending: PendingMigration[];
  /**
   * Applied migrations whose files changed since: shown as warnings, never thrown (`run`
   * refuses on them; these views must still show the state).
   */
  changed: ChangedMigration[];
  /** Pending migrations and operations; `migrator` above is the one it read them with. */
  work: PlanWork;
  lock: LockHolder | null;
}

/** Open the database, read what the views need, and close it again. */
export async function withSnapshot<T>(
  ports: Ports,
  loaded: LoadedPlan,
  fn: (s: Snapshot) => Promise<T>,
): Promise<T> {
  const db = await ports.openDatabase(await readOnlyConfig(loaded), loaded.dir, ports.logger);
  try {
    const journal = ports.journal(db);
    const [work, lock] = await Promise.all([
      readPlanWork(loaded, await ports.createMigrator(db, loaded, ports.logger), journal, {
        allowChanged: true,
      }),
      db.lockStatus(loaded.plan.name),
    ]);
    return await fn({
      db,
      journal,
      migrator: work.migrator,
      pending: work.pending,
      changed: work.changed,
      work,
      lock,
    });
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** Open the plan's database for `fn` (lock inspection, migrations), then close it. */
export async function withDatabase<T>(
  ports: Ports,
  loaded: LoadedPlan,
  fn: (db: Database) => Promise<T>,
): Promise<T> {
  const db = await ports.openDatabase(loaded.plan.database, loaded.dir, ports.logger);
  try {
    return await fn(db);
  } finally {
    await db.close().catch(() => undefined);
  }
}
