import type { AnalyzeOptions } from '../../db/database.js';
import type { Step } from '../../core/engine/step.js';
import type { AnalyzeConfig } from '../../plan/schema.js';

export function analyzeOptions(config: AnalyzeConfig): Omit<AnalyzeOptions, 'signal'> | null {
  if (config === false) return null;
  if (config === true) return { mode: 'full', vacuum: true };
  return { mode: config.mode, vacuum: config.vacuum, ...(config.tables ? { tables: config.tables } : {}) };
}

/**
 * Fresh planner statistics after the schema changed (VACUUM ANALYZE / ANALYZE TABLE), so the
 * first queries of the new release do not run on stale plans. Nothing to undo.
 */
export function analyzeStep(options: Omit<AnalyzeOptions, 'signal'>): Step {
  return {
    name: 'analyze',
    defaultEstimateMs: 5000,
    defaultRollbackMs: 0,
    async run(ctx) {
      const report = await ctx.db.analyze({ ...options, signal: ctx.signal });
      return {
        summary: `${report.tables.length} table${report.tables.length === 1 ? '' : 's'} analyzed`,
        tables: report.tables,
        stages: report.stages,
      };
    },
    async rollback() {
      return { summary: 'nothing to undo' };
    },
  };
}
