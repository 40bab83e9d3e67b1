/**
 * `clone:analyze`: planner statistics for the migrated clone, gathered while the live database
 * still serves, so the freeze does not wait for them (the few writes of the last seconds before
 * the freeze barely move them; autovacuum on the clone refreshes them later). Nothing to undo.
 */
import type { Step } from '../../core/engine/step.js';
import type { CloneTarget } from '../../clone/target.js';
import { doneByInterruptedRun } from './freeze-report.js';

export function cloneAnalyzeStep(options: {
  target: CloneTarget;
  /** `dump`: after the freeze, so a resumed run still analyzes. @default false */
  afterCutover?: boolean;
}): Step {
  return {
    name: 'clone:analyze',
    defaultEstimateMs: 5000,
    defaultRollbackMs: 0,
    async run(ctx) {
      const done = options.afterCutover ? null : doneByInterruptedRun(ctx);
      if (done) return done;
      const clone = await ctx.ports.openDatabase({ engine: 'postgres', url: options.target.url });
      const report = await clone.analyze({ mode: 'full', vacuum: false, signal: ctx.signal });
      return { summary: `analyzed ${report.tables.length} tables of the clone`, tables: report.tables };
    },
    // Statistics change nothing a rollback must undo; the clone itself is dropped by clone:prepare.
    async rollback() {
      return { summary: 'nothing to undo' };
    },
  };
}
