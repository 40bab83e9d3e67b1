/**
 * `clone:migrate`: the pending migrations applied to the clone while the live database keeps
 * serving (and replicating into it). Nothing to undo on its own: rolling back drops the clone.
 * Migrations must stay replication-compatible (add, never rename or drop what live writes).
 */
import type { Step, StepContext } from '../../core/engine/step.js';
import type { CloneTarget } from '../../clone/target.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { doneByInterruptedRun } from './freeze-report.js';

export function cloneMigrateStep(options: {
  target: CloneTarget;
  loaded: LoadedPlan;
  pendingCount: number;
}): Step {
  return {
    name: 'clone:migrate',
    defaultEstimateMs: 2000 * Math.max(1, options.pendingCount),
    defaultRollbackMs: 0,
    async run(ctx) {
      const done = doneByInterruptedRun(ctx);
      if (done) return done;
      const names = await migrateClone(ctx, options.target, options.loaded);
      return {
        summary: names.length === 0 ? 'nothing pending' : `applied ${names.join(', ')} to the clone`,
        applied: names,
      };
    },
    // The clone is dropped by clone:prepare's rollback; the live database was never migrated.
    async rollback() {
      return { summary: 'nothing to revert: the clone is dropped' };
    },
  };
}

/** Apply the pending migrations to the clone (its own migrator, loaded like the plan's); their names. */
export async function migrateClone(
  ctx: StepContext,
  target: CloneTarget,
  loaded: LoadedPlan,
): Promise<string[]> {
  const clone = await ctx.ports.openDatabase({ engine: target.engine, url: target.url });
  // migrations/index.ts is loaded lazily, as for the plan's own migrator.
  const { createMigrator } = await import('../../migrations/index.js');
  const migrator = await createMigrator(clone, loaded.plan.migrations, loaded.dir, { logger: ctx.logger });
  const applied = await migrator.up({
    signal: ctx.signal,
    beforeMigration: async () => ctx.lock.verify(),
    onProgress: (p) => {
      if (p.type === 'migrated') ctx.report('migration.migrated', p, `migrated ${p.name} on the clone`);
      if (p.type === 'migrating') ctx.report('migration.migrating', p, `migrating ${p.name} on the clone`);
    },
  });
  return applied.map((m) => m.name);
}
