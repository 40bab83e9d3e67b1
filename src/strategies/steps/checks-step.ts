import { evaluateCheck, readCheck, type CheckOutcome } from '../../engine/checks.js';
import type { Step } from '../../engine/step.js';
import { RolledBackError } from '../../errors.js';
import type { CheckConfig } from '../../plan/schema.js';

/** An integrity check did not hold after migrating; the run is rolled back (exit 5). */
export class CheckFailedError extends RolledBackError {
  readonly outcomes: CheckOutcome[];
  constructor(failed: CheckOutcome[], all: CheckOutcome[], planPath: string) {
    const what = failed
      .map((f) => `"${f.name}" expected ${f.expected}, got ${f.actual ?? 'null'}`)
      .join('; ');
    super('CHECK_FAILED', `integrity check failed: ${what}; the migrations were rolled back`, {
      hint: `Fix the migration (or the check's expectation), then run \`maint run ${planPath}\` again; \`maint status ${planPath}\` shows the journal.`,
      details: { checks: all },
    });
    this.outcomes = all;
  }
}

export function checksStep(options: { checks: readonly CheckConfig[]; planPath: string }): Step {
  return {
    name: 'checks',
    defaultEstimateMs: 200 * Math.max(1, options.checks.length),
    defaultRollbackMs: 0,
    async run(ctx) {
      if (!ctx.db) throw new Error('checks need a database');
      const outcomes: CheckOutcome[] = [];
      for (const check of options.checks) {
        const actual = await readCheck(ctx.db, check, ctx.signal);
        const before = ctx.state.baseline?.checks[check.name] ?? null;
        outcomes.push({ name: check.name, actual, before, ...evaluateCheck(check.expect, actual, before) });
      }
      const failed = outcomes.filter((o) => !o.ok);
      if (failed.length > 0) throw new CheckFailedError(failed, outcomes, options.planPath);
      return {
        summary: `${outcomes.length} check${outcomes.length === 1 ? '' : 's'} passed`,
        checks: outcomes,
      };
    },
    async rollback() {
      return { summary: 'nothing to undo' };
    },
  };
}
