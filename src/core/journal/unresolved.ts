/**
 * The run a plan's next run must settle first: one interrupted (its process died while it was
 * `running` or `rolling_back`), or the newest run when it ended `failed` (exit 6) and no operator
 * has resolved it (`maint resolve`). A failed run stays unresolved until a later run settles it
 * (resumes it, or finishes its rollback) or an operator records that it was finished by hand:
 * `maint gate` refuses meanwhile, and `maint status` shows it. A `POINT_OF_NO_RETURN` failure only
 * an operator can resolve: no run can undo it, and redoing it could repeat what cannot be undone.
 */
import { OperatorActionError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import { isRecordOnly, resolutionOf } from '../engine/state.js';
import type { Journal, RunRecord } from './journal.js';

export async function runToSettle(journal: Journal, plan: string): Promise<RunRecord | undefined> {
  const unfinished = (await journal.unfinished(plan))[0];
  if (unfinished) return unfinished;
  // A record that ran nothing (`maint migrate accept`) neither settles nor hides a failed run.
  const last = (await journal.runs(plan, 20)).find((r) => !isRecordOnly(r));
  return last?.status === 'failed' && !resolutionOf(last) ? last : undefined;
}

/** A failed run that `maint run` must not settle itself: only `maint resolve` does. */
export function needsOperator(run: RunRecord | undefined | null): boolean {
  return run?.status === 'failed' && run.error?.code === 'POINT_OF_NO_RETURN' && !resolutionOf(run);
}

/** `maint resolve PLAN --run ID --reason "…"`, as a hint's action. */
export function resolveAction(planPath: string | undefined, runId: string) {
  return act('resolve', planPath, { run: runId, reason: 'what was finished by hand' });
}

/**
 * What `maint run` (exit 6, nothing started) and `maint plan` say while a point-of-no-return
 * failure is not resolved.
 */
export function unresolvedError(run: RunRecord, planPath: string): OperatorActionError {
  return new OperatorActionError(
    'RUN_UNRESOLVED',
    `run ${run.runId} reached a point of no return and nobody has recorded that it was finished by hand${run.error ? ` (${run.error.message})` : ''}; nothing was started`,
    {
      hint: hint(
        'Finish by hand what it left, then record that with {resolve}; {status} shows the journal.',
        { resolve: resolveAction(planPath, run.runId), status: act('status', planPath) },
      ),
      details: { unresolvedRunId: run.runId },
    },
  );
}
