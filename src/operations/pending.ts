/**
 * What a run has to do besides migrations: the plan's operations that no completed run has run
 * with their current definition. Also lets a plan made only of operations go without a
 * migrations folder. Read-only: used by `maint run` before it locks and by `maint plan`.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Journal } from '../core/journal/journal.js';
import type { ChangedMigration, Migrator, PendingMigration } from '../migrations/migrator.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { OperationConfig } from '../plan/schema.js';

/** Operation steps are named `operation:<name>`. */
export const OPERATION_STEP_PREFIX = 'operation:';

export function operationStepName(op: Pick<OperationConfig, 'name'>): string {
  return `${OPERATION_STEP_PREFIX}${op.name}`;
}

/** What makes an operation "the same" as one already run: kind, run, rollback, verify, transaction. */
export function operationChecksum(op: OperationConfig): string {
  if (op.kind === 'rds-upgrade') {
    const upgrade = { kind: op.kind, instance: op.instance, engineVersion: op.engineVersion };
    return createHash('sha256').update(JSON.stringify(upgrade)).digest('hex');
  }
  const definition = {
    kind: op.kind,
    run: op.run,
    rollback: op.rollback ?? null,
    verify: op.verify ?? null,
    transaction: op.kind === 'sql' ? op.transaction : null,
  };
  return createHash('sha256').update(JSON.stringify(definition)).digest('hex');
}

/** The operations no run that ended `completed` has run with their current definition, in plan order. */
export async function pendingOperations(
  operations: readonly OperationConfig[],
  planName: string,
  journal: Journal,
): Promise<OperationConfig[]> {
  if (operations.length === 0) return [];
  const done = await journal.completedSteps(planName, OPERATION_STEP_PREFIX);
  const ran = new Set(done.map((s) => `${s.name}\n${String(s.detail?.checksum)}`));
  return operations.filter((op) => !ran.has(`${operationStepName(op)}\n${operationChecksum(op)}`));
}

/** A migrator for a plan that has no migrations folder: nothing to apply, nothing applied. */
const NO_MIGRATIONS: Migrator = {
  all: async () => [],
  applied: async () => [],
  pending: async () => [],
  changed: async () => [],
  accept: async () => [],
  up: async () => [],
  down: async () => [],
};

export interface PlanWork {
  migrator: Migrator;
  /** The plan has operations and no migrations folder: the run has no migrate step. */
  migrationsAbsent: boolean;
  pending: PendingMigration[];
  /** Applied migrations whose files changed since (read only with `allowChanged`; else pending throws). */
  changed: ChangedMigration[];
  operations: OperationConfig[];
}

/**
 * The pending migrations and operations of a plan. A missing migrations folder stays an error
 * (from the migrator) for a plan without operations. A changed applied migration is an error
 * (`MIGRATION_CHANGED`, what `run` refuses on) unless `allowChanged`: the read-only views list it.
 */
export async function readPlanWork(
  loaded: LoadedPlan,
  migrator: Migrator,
  journal: Journal,
  options: { allowChanged?: boolean } = {},
): Promise<PlanWork> {
  const { plan } = loaded;
  const absent =
    plan.operations.length > 0 &&
    (await stat(path.resolve(loaded.dir, plan.migrations.dir)).then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
    ));
  const effective = absent ? NO_MIGRATIONS : migrator;
  return {
    migrator: effective,
    migrationsAbsent: absent,
    pending: await effective.pending(options),
    changed: options.allowChanged ? await effective.changed() : [],
    operations: await pendingOperations(plan.operations, plan.name, journal),
  };
}

/** Whether a run would have anything to do (an interrupted run aside). */
export function hasWork(work: Pick<PlanWork, 'pending' | 'operations'>): boolean {
  return work.pending.length > 0 || work.operations.length > 0;
}
