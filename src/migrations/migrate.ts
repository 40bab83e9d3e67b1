/**
 * The core of `maint migrate`: apply pending migrations under the single-runner lock. Hosts
 * (the command, the agent) call these functions and render the typed results.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database, LockHolder, LockSession } from '../db/database.js';
import { openDatabase } from '../db/index.js';
import { abortableSleep } from '../db/common.js';
import { LockHeldError, MaintError, UsageError, ExitCode } from '../errors.js';
import type { Logger } from '../output/logger.js';
import type { LoadedPlan } from '../plan/loader.js';
import { listMigrationFiles, nextMigrationNames } from './files.js';
import type { AppliedMigration, MigrationInfo, MigrationProgress, Migrator } from './migrator.js';
import { createMigrator } from './sql-migrator.js';

export interface MigrateOptions {
  /** Block until the lock is free instead of failing with exit 4. @default false */
  wait?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  /** @default a new UUID */
  runId?: string;
  onProgress?: (p: MigrationProgress) => void;
}

export interface MigrateStep {
  name: string;
  status: 'completed' | 'failed' | 'pending';
  durationMs: number | null;
}

/** The `--json` shape shared with `maint run` (docs/SPEC.md). */
export interface MigrateResult {
  plan: string;
  runId: string;
  status: 'completed' | 'failed' | 'rolled_back';
  steps: MigrateStep[];
  notifications: unknown[];
  error: { code: string; message: string; hint: string | null } | null;
}

function describeHolder(h: LockHolder): string {
  return `${h.host} pid ${h.pid}${h.job ? ` (${h.job})` : ''}, ${h.purpose} since ${h.since}`;
}

async function withDatabase<T>(
  loaded: LoadedPlan,
  logger: Logger | undefined,
  fn: (db: Database) => Promise<T>,
): Promise<T> {
  const db = await openDatabase(loaded.plan.database, loaded.dir, logger ? { logger } : {});
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Take the plan's lock, or throw LockHeldError (exit 4) naming the holder. */
async function takeLock(
  db: Database,
  loaded: LoadedPlan,
  purpose: string,
  options: MigrateOptions,
): Promise<LockSession> {
  const name = loaded.plan.name;
  const session = await db.acquireLock(name, {
    wait: options.wait ?? false,
    purpose,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (session) return session;
  const holder = await db.lockStatus(name);
  throw new LockHeldError(
    holder
      ? `Another run holds the lock for "${name}": ${describeHolder(holder)}.`
      : `Another run holds the lock for "${name}".`,
    {
      hint: `Wait for it with \`maint migrate ${loaded.displayPath} --wait\`, or see who holds it with \`maint lock ${loaded.displayPath}\`.`,
      details: { holder },
    },
  );
}

/**
 * `--wait`: wait until the lock is free, then take it only if something is still pending. Every
 * container of a fleet starts with `migrate --wait`; once the first has migrated, the others see
 * nothing pending and go on at once, instead of taking the lock one after another.
 */
async function lockOrNothingToDo(
  db: Database,
  loaded: LoadedPlan,
  options: MigrateOptions,
  pending: () => Promise<MigrationInfo[]>,
): Promise<LockSession | null> {
  const name = loaded.plan.name;
  for (;;) {
    const session = await db.acquireLock(name, {
      wait: false,
      purpose: 'migrate',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (session) return session;
    while ((await db.lockStatus(name)) !== null)
      await abortableSleep(100 + Math.random() * 100, options.signal);
    if ((await pending()).length === 0) return null;
  }
}

function attachResult(error: unknown, result: MigrateResult): unknown {
  if (!(error instanceof MaintError)) return error;
  const status = error.exitCode === ExitCode.rolledBack ? 'rolled_back' : 'failed';
  const partial: MigrateResult = {
    ...result,
    status,
    error: { code: error.code, message: error.message, hint: error.hint ?? null },
  };
  Object.assign(error, { details: { ...error.details, result: partial } });
  return error;
}

/** The result before anything has happened (SPEC.md's run shape). */
function emptyResult(loaded: LoadedPlan, runId: string | undefined): MigrateResult {
  return {
    plan: loaded.plan.name,
    runId: runId ?? randomUUID(),
    status: 'completed',
    steps: [],
    notifications: [],
    error: null,
  };
}

function migratorFor(db: Database, loaded: LoadedPlan, logger: Logger | undefined): Promise<Migrator> {
  return createMigrator(db, loaded.plan.migrations, loaded.dir, logger ? { logger } : {});
}

/** Apply every pending migration under the lock. */
export async function migrate(loaded: LoadedPlan, options: MigrateOptions = {}): Promise<MigrateResult> {
  const result = emptyResult(loaded, options.runId);
  return withDatabase(loaded, options.logger, async (db) => {
    const migrator = await migratorFor(db, loaded, options.logger);
    // Bad files fail before waiting for the lock; a changed applied migration fails under the
    // lock, before anything is applied. (Reading the database before the lock would open an
    // embedded PGlite folder that another process owns.)
    await migrator.all();
    const lock = options.wait
      ? await lockOrNothingToDo(db, loaded, options, () => migrator.pending())
      : await takeLock(db, loaded, 'migrate', options);
    if (!lock) return result;
    try {
      // Pending again under the lock: a runner we waited for has usually applied everything.
      const pending = await migrator.pending();
      result.steps = pending.map((m) => ({ name: m.name, status: 'pending', durationMs: null }));
      const step = (name: string): MigrateStep | undefined => result.steps.find((s) => s.name === name);
      await migrator.up({
        ...(options.signal ? { signal: options.signal } : {}),
        beforeMigration: () => lock.verify(),
        onProgress: (p) => {
          if (p.type === 'migrated')
            Object.assign(step(p.name) ?? {}, { status: 'completed', durationMs: p.durationMs ?? null });
          options.onProgress?.(p);
        },
      });
      return result;
    } catch (error) {
      const failed = result.steps.find((s) => s.status === 'pending');
      if (failed) failed.status = 'failed';
      throw attachResult(error, result);
    } finally {
      await lock.release();
    }
  });
}

export interface MigrateDownOptions extends MigrateOptions {
  /** Revert down to (not including) this migration; `0` reverts all. */
  to: string | 0;
}

/** Revert applied migrations newest first, under the lock. */
export async function migrateDown(loaded: LoadedPlan, options: MigrateDownOptions): Promise<MigrateResult> {
  const result = emptyResult(loaded, options.runId);
  return withDatabase(loaded, options.logger, async (db) => {
    const migrator = await migratorFor(db, loaded, options.logger);
    const lock = await takeLock(db, loaded, 'migrate down', options);
    try {
      await migrator.down({
        to: options.to,
        ...(options.signal ? { signal: options.signal } : {}),
        beforeMigration: () => lock.verify(),
        onProgress: (p) => {
          if (p.type === 'reverting') result.steps.push({ name: p.name, status: 'failed', durationMs: null });
          if (p.type === 'reverted')
            Object.assign(result.steps.find((s) => s.name === p.name) ?? {}, {
              status: 'completed',
              durationMs: p.durationMs ?? null,
            });
          options.onProgress?.(p);
        },
      });
      return result;
    } catch (error) {
      throw attachResult(error, result);
    } finally {
      await lock.release();
    }
  });
}

export interface MigrationStatus {
  plan: string;
  table: string;
  applied: AppliedMigration[];
  pending: MigrationInfo[];
  lock: LockHolder | null;
}

/** Applied and pending migrations, and who holds the lock. Changes nothing. */
export async function migrationStatus(
  loaded: LoadedPlan,
  options: { logger?: Logger } = {},
): Promise<MigrationStatus> {
  return withDatabase(loaded, options.logger, async (db) => {
    const migrator = await createMigrator(db, loaded.plan.migrations, loaded.dir);
    const pending = await migrator.pending();
    return {
      plan: loaded.plan.name,
      table: loaded.plan.migrations.table,
      applied: await migrator.applied(),
      pending,
      lock: await db.lockStatus(loaded.plan.name),
    };
  });
}

export interface CreatedMigration {
  name: string;
  /** Paths relative to the plan's folder. */
  files: string[];
}

/** Write the next `NNN_slug.sql` and `NNN_slug.down.sql`, empty but for a comment. */
export async function createMigration(loaded: LoadedPlan, slug: string): Promise<CreatedMigration> {
  if (!/^[a-z0-9][a-z0-9_-]{0,80}$/i.test(slug)) {
    throw new UsageError(
      `"${slug}" is not a migration name; use letters, digits, _ and -, e.g. add_orders_status.`,
    );
  }
  const dir = path.resolve(loaded.dir, loaded.plan.migrations.dir);
  await mkdir(dir, { recursive: true });
  const existing = await listMigrationFiles(dir, loaded.dir);
  const names = nextMigrationNames(existing, slug);
  const up = path.join(dir, names.up);
  const down = path.join(dir, names.down);
  await writeFile(up, `-- ${names.up}: apply. Each statement runs under migrations.lockTimeout.\n`, {
    flag: 'wx',
  });
  await writeFile(down, `-- ${names.down}: revert ${names.up}.\n`, { flag: 'wx' });
  return {
    name: names.up.replace(/\.sql$/, ''),
    files: [path.relative(loaded.dir, up), path.relative(loaded.dir, down)],
  };
}
