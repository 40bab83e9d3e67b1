/**
 * `maint migrate` as use cases: apply pending migrations under the single-runner lock, revert
 * down to a named one, list what is applied and pending, create the next files. Hosts (the
 * command, the agent) call these through `createCore` and render the typed results; a failure
 * is the result's `error`, never an exception carrying a result.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database, LockHolder, LockSession } from '../../db/database.js';
import { abortableSleep } from '../../db/common.js';
import { describeHolder } from '../../db/identity.js';
import { ExitCode, LockHeldError, UsageError, toMaintError, type MaintError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import { listMigrationFiles, nextMigrationNames } from '../../migrations/files.js';
import { changedWarning } from '../../migrations/changed.js';
import type {
  AppliedMigration,
  ChangedMigration,
  MigrationInfo,
  MigrationProgress,
  PendingMigration,
  Migrator,
} from '../../migrations/migrator.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { Emitter, type EventSink } from '../events.js';
import type { Ports } from '../ports.js';
import { errorJson, type ErrorJson } from '../result.js';
import type { RunOutcome, StepStatus } from '../status.js';
import { newRunId } from '../run/run-record.js';
import { withDatabase } from '../inspect/snapshot.js';

export interface MigrateOptions {
  /** Block until the lock is free instead of failing with exit 4. @default false */
  wait?: boolean;
  /**
   * Apply pending migrations only while the window is open (exit 3 otherwise; nothing pending
   * is still exit 0). `migrations.requireWindow: true` in the plan asks the same.
   * @default false
   */
  requireWindow?: boolean;
  signal?: AbortSignal;
  /** @default a new id shaped like `maint run`'s: `run_20261129T203000_a1b2c3` */
  runId?: string;
}

export interface MigrateStep {
  name: string;
  /** The step words of `maint run` (core/status.ts). */
  status: Extract<StepStatus, 'done' | 'failed' | 'pending'>;
  durationMs: number | null;
}

/** The `--json` shape shared with `maint run` (docs/SPEC.md). */
export interface MigrateResult {
  plan: string;
  runId: string;
  /** `refused`: nothing was applied (bad files, lock held, unreachable database). */
  status: Extract<RunOutcome, 'completed' | 'failed' | 'rolled_back' | 'refused'>;
  steps: MigrateStep[];
  notifications: unknown[];
  error: ErrorJson | null;
}

/** Take the plan's lock, or throw LockHeldError (exit 4) naming the holder. */
export async function takeLock(
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
      hint: hint('Wait for it with {wait}, or see who holds it with {lock}.', {
        wait: act(purpose === 'migrate' ? 'migrate' : 'migrate down', loaded.path, { wait: true }),
        lock: act('lock', loaded.path),
      }),
      details: { holder },
    },
  );
}

/**
 * `--wait`: wait until the lock is free, then take it only if something is still pending. Every
 * container of a fleet starts with `migrate --wait`; once the first has migrated, the others see
 * nothing pending and go on at once, instead of taking the lock one after another. With nothing
 * pending at the start it does not take the lock at all (no holder row written and deleted on
 * every container start), except on embedded PGlite, whose folder is read only under the lock.
 */
async function lockOrNothingToDo(
  db: Database,
  loaded: LoadedPlan,
  options: MigrateOptions,
  pending: () => Promise<MigrationInfo[]>,
  refuse: (pending: MigrationInfo[]) => Promise<void>,
): Promise<LockSession | null> {
  const name = loaded.plan.name;
  if (db.engine !== 'pglite') {
    const first = await pending();
    if (first.length === 0) return null;
    // A closed window refuses now, unless a runner holds the lock: it may apply them all.
    if ((await db.lockStatus(name)) === null) await refuse(first);
  }
  for (;;) {
    const session = await db.acquireLock(name, {
      wait: false,
      purpose: 'migrate',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (session) return session;
    while ((await db.lockStatus(name)) !== null)
      await abortableSleep(100 + Math.random() * 100, options.signal);
    const left = await pending();
    if (left.length === 0) return null;
    await refuse(left);
  }
}

function emptyResult(loaded: LoadedPlan, runId: string): MigrateResult {
  return {
    plan: loaded.plan.name,
    runId,
    status: 'completed',
    steps: [],
    notifications: [],
    error: null,
  };
}

/** Set the result's error; status from what had happened by then. */
function failed(
  result: MigrateResult,
  error: MaintError,
  loaded: LoadedPlan,
  started: boolean,
): MigrateResult {
  result.status = !started ? 'refused' : error.exitCode === ExitCode.rolledBack ? 'rolled_back' : 'failed';
  result.error = errorJson(error.bindPlan(loaded.path));
  return result;
}

/** Migration progress as coded events for the host's sink. */
function progressTo(events: Emitter): (p: MigrationProgress) => void {
  return (p) => {
    const ms = p.durationMs !== undefined ? ` (${p.durationMs} ms)` : '';
    const message =
      p.type === 'retrying' ? `${p.name}: ${p.message ?? 'retrying'}` : `${p.type} ${p.name}${ms}`;
    events.tell(`migration.${p.type}`, p, { message });
  };
}

interface MigrateSession {
  db: Database;
  migrator: Migrator;
  result: MigrateResult;
  /** Migration progress as coded events for the host's sink. */
  report: (p: MigrationProgress) => void;
  /** Something may have changed from now on (a failure is no longer a refusal). */
  started: () => void;
}

/** The database and migrator for one `migrate` use case; a failure becomes the result's error. */
async function withMigrator(
  ports: Ports,
  sink: EventSink,
  loaded: LoadedPlan,
  runId: string | undefined,
  body: (s: MigrateSession) => Promise<void>,
): Promise<MigrateResult> {
  // The same id shape as `maint run` (run_<UTC stamp>_<random>).
  const result = emptyResult(loaded, runId ?? newRunId(ports.clock));
  const events = new Emitter(loaded.plan.name, sink, () => ports.clock.now());
  events.runId = result.runId;
  let started = false;
  try {
    await withDatabase(ports, loaded, async (db) =>
      body({
        db,
        migrator: await ports.createMigrator(db, loaded, ports.logger),
        result,
        report: progressTo(events),
        started: () => void (started = true),
      }),
    );
    return result;
  } catch (error) {
    return failed(result, toMaintError(error), loaded, started);
  }
}

/** Apply every pending migration under the lock. */
export function migrate(
  ports: Ports,
  sink: EventSink,
  loaded: LoadedPlan,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  return withMigrator(
    ports,
    sink,
    loaded,
    options.runId,
    async ({ db, migrator, result, report, started }) => {
      // Bad files fail before waiting for the lock; a changed applied migration fails under the
      // lock, before anything is applied. (Reading the database before the lock would open an
      // embedded PGlite folder that another process owns.)
      await migrator.all();
      const windowed = options.requireWindow === true || loaded.plan.migrations.requireWindow;
      // Outside the window with something pending: refused before anything is written.
      // The zone math (luxon) is loaded only when the check is asked for and something is pending.
      const refuse = async (pending: MigrationInfo[]): Promise<void> => {
        if (!windowed || pending.length === 0) return;
        const { windowRefusal } = await import('./window-check.js');
        const refusal = windowRefusal(loaded, pending, ports.clock.now());
        if (refusal) throw refusal;
      };
      // (PGlite's folder is read only under the lock: its check waits for the lock.)
      if (windowed && !options.wait && db.engine !== 'pglite') await refuse(await migrator.pending());
      const lock = options.wait
        ? await lockOrNothingToDo(db, loaded, options, () => migrator.pending(), refuse)
        : await takeLock(db, loaded, 'migrate', options);
      if (!lock) return;
      try {
        // Pending again under the lock: a runner we waited for has usually applied everything.
        const pending = await migrator.pending();
        await refuse(pending);
        result.steps = pending.map((m) => ({ name: m.name, status: 'pending', durationMs: null }));
        await migrator.up({
          ...(options.signal ? { signal: options.signal } : {}),
          beforeMigration: async () => {
            started();
            await lock.verify();
          },
          onProgress: (p) => {
            const step = result.steps.find((s) => s.name === p.name);
            if (p.type === 'migrated' && step)
              Object.assign(step, { status: 'done', durationMs: p.durationMs ?? null });
            report(p);
          },
        });
      } catch (error) {
        const step = result.steps.find((s) => s.status === 'pending');
        if (step) step.status = 'failed';
        throw error;
      } finally {
        await lock.release();
      }
    },
  );
}

export interface MigrateDownOptions extends MigrateOptions {
  /** Revert down to (not including) this migration; `0` reverts all. */
  to: string | 0;
}

/** Revert applied migrations newest first, under the lock. */
export function migrateDown(
  ports: Ports,
  sink: EventSink,
  loaded: LoadedPlan,
  options: MigrateDownOptions,
): Promise<MigrateResult> {
  return withMigrator(
    ports,
    sink,
    loaded,
    options.runId,
    async ({ db, migrator, result, report, started }) => {
      const lock = await takeLock(db, loaded, 'migrate down', options);
      try {
        await migrator.down({
          to: options.to,
          ...(options.signal ? { signal: options.signal } : {}),
          beforeMigration: async () => {
            started();
            await lock.verify();
          },
          onProgress: (p) => {
            if (p.type === 'reverting')
              result.steps.push({ name: p.name, status: 'failed', durationMs: null });
            if (p.type === 'reverted')
              Object.assign(result.steps.find((s) => s.name === p.name) ?? {}, {
                status: 'done',
                durationMs: p.durationMs ?? null,
              });
            report(p);
          },
        });
      } finally {
        await lock.release();
      }
    },
  );
}

export interface MigrationStatus {
  plan: string;
  table: string;
  applied: AppliedMigration[];
  pending: PendingMigration[];
  /** Applied migrations whose files were edited since (`migrate` refuses until restored or accepted). */
  changed: ChangedMigration[];
  /** For people: each changed migration, with the command that accepts it. */
  warnings: string[];
  lock: LockHolder | null;
}

/** Applied and pending migrations, the changed ones, and who holds the lock. Changes nothing. */
export async function migrationStatus(ports: Ports, loaded: LoadedPlan): Promise<MigrationStatus> {
  return withDatabase(ports, loaded, async (db) => {
    const migrator = await ports.createMigrator(db, loaded, ports.logger);
    const pending = await migrator.pending({ allowChanged: true });
    const changed = await migrator.changed();
    return {
      plan: loaded.plan.name,
      table: loaded.plan.migrations.table,
      applied: await migrator.applied(),
      pending,
      changed,
      warnings: changed.map((c) => changedWarning(c, loaded.path)),
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
