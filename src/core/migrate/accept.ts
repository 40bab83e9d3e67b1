/**
 * `maint migrate accept`: after a review found an edit to an applied migration harmless (a
 * comment, whitespace), record the file's current checksum so `run` and `migrate` build on it
 * again (Flyway's `repair`, Atlas's `migrate hash`). Under the plan's lock; each accepted file,
 * its checksums before and after, who and why, are journaled in `maint_runs` (a record that ran
 * no steps: `migrations.accepted` in its state). Names are checked before anything is written.
 */
import { InputError, UsageError, toMaintError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import { short } from '../../migrations/changed.js';
import type { ChangedMigration } from '../../migrations/migrator.js';
import { nearest } from '../../support/nearest.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { MIGRATIONS_ACCEPTED, type AcceptedMigrations } from '../engine/state.js';
import type { RunRecord } from '../journal/journal.js';
import type { Ports } from '../ports.js';
import { errorJson, type ErrorJson } from '../result.js';
import { newRunId } from '../run/run-record.js';
import { withDatabase } from '../inspect/snapshot.js';
import { takeLock } from './migrate.js';

export interface AcceptOptions {
  /** Migration names (`001_create_orders`) or file names (`001_create_orders.sql`). */
  names: readonly string[];
  /** Why the edit is safe to accept (journaled). */
  reason: string;
  /** Block until the lock is free instead of failing with exit 4. @default false */
  wait?: boolean;
}

export interface AcceptResult {
  plan: string;
  /** The journal record of the acceptance (null when refused). */
  runId: string | null;
  status: 'accepted' | 'refused';
  accepted: AcceptedMigrations['migrations'];
  reason: string;
  error: ErrorJson | null;
}

/** `001_a.sql`, `migrations/001_a.sql`, `001_a`: the migration name. */
function migrationName(typed: string): string {
  return (typed.split(/[\\/]/).pop() ?? typed).replace(/\.(sql|js|mjs|ts)$/, '');
}

export async function acceptMigrations(
  ports: Ports,
  loaded: LoadedPlan,
  options: AcceptOptions,
): Promise<AcceptResult> {
  const result: AcceptResult = {
    plan: loaded.plan.name,
    runId: null,
    status: 'refused',
    accepted: [],
    reason: options.reason.trim(),
    error: null,
  };
  try {
    if (!result.reason)
      throw new UsageError('migrate accept needs a --reason that says what the review found; it was blank.', {
        hint: hint('Say why the edit is safe, e.g. {accept}; the reason is journaled.', {
          accept: act('migrate accept', undefined, { reason: 'only a comment was reworded' }, [
            ...options.names,
          ]),
        }),
      });
    await withDatabase(ports, loaded, async (db) => {
      const migrator = await ports.createMigrator(db, loaded, ports.logger);
      await migrator.all();
      const lock = await takeLock(db, loaded, 'migrate accept', { wait: options.wait ?? false });
      try {
        const changed = await migrator.changed();
        const names = [...new Set(options.names.map(migrationName))];
        refuseUnknown(
          names,
          changed,
          (await migrator.all()).map((m) => m.name),
        );
        await lock.verify();
        const accepted = await migrator.accept(names);
        result.accepted = accepted.map(record);
        const journal = ports.journal(db);
        await journal.ensure();
        const runId = newRunId(ports.clock);
        await journal.insertRun(acceptRecord(ports, loaded, runId, result));
        result.runId = runId;
        result.status = 'accepted';
      } finally {
        await lock.release();
      }
    });
  } catch (error) {
    result.error = errorJson(toMaintError(error).bindPlan(loaded.path));
  }
  return result;
}

/** Every name must be a changed migration; otherwise exit 2 before anything is written. */
function refuseUnknown(names: string[], changed: ChangedMigration[], all: string[]): void {
  const changedNames = changed.map((c) => c.name);
  const issues = names
    .filter((n) => !changedNames.includes(n))
    .map((n) => {
      if (all.includes(n))
        return { path: n, message: 'has not changed since it was applied: nothing to accept' };
      const near = nearest(n, changedNames.length > 0 ? changedNames : all);
      return {
        path: n,
        message: `is not a migration of this plan${near ? ` (did you mean "${near}"?)` : ''}`,
      };
    });
  if (issues.length === 0) return;
  throw new InputError(
    'MIGRATION_UNKNOWN',
    `Nothing was accepted: ${issues.map((i) => `"${i.path}" ${i.message}`).join('; ')}`,
    issues,
    {
      hint:
        changedNames.length > 0
          ? hint(`The changed migrations are: ${changedNames.join(', ')}; {status} lists them.`, {
              status: act('migrate status'),
            })
          : hint('No applied migration has changed; {status} lists them.', { status: act('migrate status') }),
    },
  );
}

function record(c: ChangedMigration): AcceptedMigrations['migrations'][number] {
  return {
    name: c.name,
    file: c.file,
    state: c.state,
    appliedAt: c.appliedAt,
    statementsDone: c.statementsDone,
    previousChecksum: c.appliedChecksum,
    checksum: c.currentChecksum,
  };
}

function acceptRecord(ports: Ports, loaded: LoadedPlan, runId: string, result: AcceptResult): RunRecord {
  const now = ports.clock.now().toISOString();
  const accepted: AcceptedMigrations = {
    reason: result.reason,
    by: { host: ports.host.host, pid: ports.host.pid, ...(ports.host.job ? { job: ports.host.job } : {}) },
    migrations: result.accepted,
  };
  return {
    runId,
    plan: loaded.plan.name,
    status: 'completed',
    startedAt: now,
    finishedAt: now,
    host: ports.host.host,
    pid: ports.host.pid,
    emergencyReason: null,
    recordedAt: (ports.clock.realNow?.() ?? ports.clock.now()).toISOString(),
    rehearsal: ports.clock.pinned === true,
    windowStart: null,
    windowEnd: null,
    resumedFrom: null,
    state: { [MIGRATIONS_ACCEPTED.name]: accepted },
    error: null,
    note: `migrate accept: ${result.accepted.map((m) => `${m.file} checksum ${short(m.previousChecksum)} → ${short(m.checksum)}`).join(', ')}; reason: ${result.reason}`,
    notifications: null,
  };
}
