import { readCheck } from '../../engine/checks.js';
import type { Step } from '../../engine/step.js';
import { RolledBackError } from '../../errors.js';
import type { Migrator } from '../../migrations/migrator.js';
import type { CheckConfig } from '../../plan/schema.js';

/**
 * Captures what the run must be able to return to and compare with: the newest applied
 * migration and every integrity check's value. Journaled before anything is migrated; a
 * resumed run reuses the interrupted run's baseline instead of measuring a half-migrated state.
 */
export function baselineStep(options: { migrator: Migrator; checks: readonly CheckConfig[] }): Step {
  return {
    name: 'baseline',
    defaultEstimateMs: 200 + 200 * options.checks.length,
    defaultRollbackMs: 0,
    async run(ctx) {
      if (ctx.state.baseline)
        return { summary: "reused the interrupted run's baseline", reused: true, ...ctx.state.baseline };
      if (!ctx.db) throw new Error('the baseline needs a database');
      const applied = await options.migrator.applied();
      const checks: Record<string, string | null> = {};
      // Only `unchanged` needs a before-value; other checks may query tables the run creates.
      for (const check of options.checks.filter((c) => c.expect === 'unchanged')) {
        try {
          checks[check.name] = await readCheck(ctx.db, check, ctx.signal);
        } catch (error) {
          throw new RolledBackError(
            'CHECK_BASELINE_FAILED',
            `integrity check "${check.name}" (expect: unchanged) could not be read before the run: ${(error as Error).message}`,
            {
              cause: error,
              hint: 'An `unchanged` check needs its table before the run: apply the migration that creates it first (`maint migrate PLAN`), or use an exact value or a comparison.',
            },
          );
        }
      }
      const baseline = { appliedBefore: applied.at(-1)?.name ?? null, checks };
      await ctx.state.saveBaseline(baseline);
      return {
        summary: `${Object.keys(checks).length} check value${Object.keys(checks).length === 1 ? '' : 's'} recorded`,
        ...baseline,
      };
    },
    async rollback() {
      return { summary: 'nothing to undo' };
    },
  };
}
