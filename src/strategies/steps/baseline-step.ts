import { readCheck } from '../../core/engine/checks.js';
import { BASELINE, type Baseline } from '../../core/engine/state.js';
import type { Step } from '../../core/engine/step.js';
import { RolledBackError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import type { Migrator } from '../../migrations/migrator.js';
import type { CheckConfig } from '../../plan/schema.js';

/**
 * Captures what the run must be able to return to and compare with: the newest applied
 * migration and every integrity check's value. Journaled (run state) before anything is
 * migrated; a resumed run reuses the interrupted run's baseline instead of measuring a
 * half-migrated state.
 */
export function baselineStep(options: { migrator: Migrator; checks: readonly CheckConfig[] }): Step {
  return {
    name: 'baseline',
    defaultEstimateMs: 200 + 200 * options.checks.length,
    defaultRollbackMs: 0,
    async run(ctx) {
      const known = ctx.state.get(BASELINE);
      if (known) return { summary: "reused the interrupted run's baseline", reused: true, ...known };
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
              hint: hint(
                'An `unchanged` check needs its table before the run: apply the migration that creates it first ({migrate}), or use an exact value or a comparison.',
                { migrate: act('migrate', ctx.plan.path) },
              ),
            },
          );
        }
      }
      const baseline: Baseline = { appliedBefore: applied.at(-1)?.name ?? null, checks };
      await ctx.state.set(BASELINE, baseline);
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
