import { evaluateCheck, readCheck, type CheckOutcome } from '../../core/engine/checks.js';
import { BASELINE } from '../../core/engine/state.js';
import type { Step } from '../../core/engine/step.js';
import { RolledBackError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import type { CheckConfig } from '../../plan/schema.js';

/** An integrity check did not hold after migrating; the run is rolled back (exit 5). */
export class CheckFailedError extends RolledBackError {
  readonly outcomes: CheckOutcome[];
  constructor(failed: CheckOutcome[], all: CheckOutcome[]) {
    const what = failed
      .map((f) => `"${f.name}" expected ${f.expected}, got ${f.actual ?? 'null'}`)
      .join('; ');
    super('CHECK_FAILED', `integrity check failed: ${what}; the migrations were rolled back`, {
      hint: hint(
        "Fix the migration (or the check's expectation), then run {run} again; {status} shows the journal.",
        {
          run: act('run'),
          status: act('status'),
        },
      ),
      details: { checks: all },
    });
    this.outcomes = all;
  }
}

export function checksStep(options: { checks: readonly CheckConfig[] }): Step {
  return {
    name: 'checks',
    defaultEstimateMs: 200 * Math.max(1, options.checks.length),
    defaultRollbackMs: 0,
    async run(ctx) {
      const outcomes: CheckOutcome[] = [];
      const baseline = ctx.state.get(BASELINE);
      for (const check of options.checks) {
        const actual = await readCheck(ctx.db, check, ctx.signal);
        const before = baseline?.checks[check.name] ?? null;
        outcomes.push({ name: check.name, actual, before, ...evaluateCheck(check.expect, actual, before) });
      }
      const failed = outcomes.filter((o) => !o.ok);
      if (failed.length > 0) throw new CheckFailedError(failed, outcomes);
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
