import { BASELINE } from '../../core/engine/state.js';
import type { Step, StepContext } from '../../core/engine/step.js';
import { OperatorActionError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import type { MigrationProgress, Migrator, PendingMigration } from '../../migrations/migrator.js';

/** Migration progress as coded events (`migration.migrated`...), with a line for people. */
function reporter(ctx: StepContext) {
  return (p: MigrationProgress) => {
    const ms = p.durationMs !== undefined ? ` (${p.durationMs}ms)` : '';
    switch (p.type) {
      case 'migrating':
        return ctx.report('migration.migrating', p, `migrating ${p.name}`);
      case 'migrated':
        return ctx.report('migration.migrated', p, `migrated ${p.name}${ms}`);
      case 'reverting':
        return ctx.report('migration.reverting', p, `reverting ${p.name}`);
      case 'reverted':
        return ctx.report('migration.reverted', p, `reverted ${p.name}${ms}`);
      case 'retrying':
        return ctx.report(
          'migration.retrying',
          p,
          `${p.name}: lock timeout, retry ${p.attempt ?? ''}`.trim(),
        );
    }
  };
}

/**
 * Applies the pending migrations (each under the migrator's lock timeout and retries). Rollback
 * reverts, newest first, everything applied after the baseline, so it is right whether the step
 * finished, failed halfway or was cancelled.
 */
export function migrateStep(options: { migrator: Migrator; pendingCount: number }): Step {
  const estimate = 2000 * Math.max(1, options.pendingCount);
  return {
    name: 'migrate',
    defaultEstimateMs: estimate,
    defaultRollbackMs: estimate,
    rollbackFailedHint: hint(
      'Inspect with {status}, fix the down migration or revert by hand ({down}), then {run} rolls the rest back.',
      {
        status: act('migrate status'),
        down: act('migrate down', undefined, { to: 'NAME' }),
        run: act('run'),
      },
    ),
    async run(ctx) {
      const applied = await options.migrator.up({
        signal: ctx.signal,
        // The lock is re-checked before every migration, not only before the step.
        beforeMigration: async () => ctx.lock.verify(),
        onProgress: reporter(ctx),
      });
      const names = applied.map((m) => m.name);
      return {
        summary: names.length === 0 ? 'nothing pending' : `applied ${names.join(', ')}`,
        applied: names,
      };
    },
    async rollback(ctx) {
      // A half-applied migration cannot be undone from here: its down file (if any) was written
      // for the whole migration. Nothing is reverted under it: finishing it is the way out.
      const partial = (await options.migrator.pending()).filter((m) => m.state === 'partial');
      if (partial.length > 0) throw partialLeft(partial);
      // Without a baseline nothing was migrated (the baseline step precedes this one).
      const baseline = ctx.state.get(BASELINE);
      if (!baseline) return { summary: 'nothing to revert', reverted: [] };
      const reverted = await options.migrator.down({
        to: baseline.appliedBefore ?? 0,
        signal: ctx.signal,
        onProgress: reporter(ctx),
      });
      const names = reverted.map((m) => m.name);
      return {
        summary: names.length === 0 ? 'nothing to revert' : `reverted ${names.join(', ')}`,
        reverted: names,
      };
    },
  };
}

/** What a half-applied migration leaves: the file, the statements done; exit 6. */
function partialLeft(partial: PendingMigration[]): OperatorActionError {
  const m = partial[0]!;
  const of = m.statements !== null ? ` of ${m.statements}` : '';
  const done = m.statementsDone === 1 ? 'statement 1' : `statements 1-${m.statementsDone}`;
  return new OperatorActionError(
    'MIGRATION_PARTIAL',
    `${m.file} is half-applied: ${done}${of} ${m.statementsDone === 1 ? 'is' : 'are'} applied (and kept); statement ${m.statementsDone + 1} and after did not run. It was not rolled back, nor anything before it`,
    {
      hint: hint(
        `Fix the cause (statement ${m.statementsDone + 1} of ${m.file} may still be edited), then {run} again: it resumes at statement ${m.statementsDone + 1} and finishes the run. {status} shows it.`,
        { run: act('run'), status: act('migrate status') },
      ),
      details: {
        migration: m.name,
        file: m.file,
        statementsDone: m.statementsDone,
        statements: m.statements,
      },
    },
  );
}
