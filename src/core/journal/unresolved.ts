/**
 * The run a plan's next run must settle first: one interrupted (its process died while it was
 * `running` or `rolling_back`), or the newest run when it ended `failed` (exit 6: a rollback
 * that did not finish, a half-applied migration, a lost lock; not a point of no return). A failed run stays unresolved
 * until a later run settles it (resumes it, or finishes its rollback): `maint gate` refuses
 * meanwhile, and `maint status` shows it.
 */
import { isRecordOnly } from '../engine/state.js';
import type { Journal, RunRecord } from './journal.js';

export async function runToSettle(journal: Journal, plan: string): Promise<RunRecord | undefined> {
  const unfinished = (await journal.unfinished(plan))[0];
  if (unfinished) return unfinished;
  // A record that ran nothing (`maint migrate accept`) neither settles nor hides a failed run.
  const last = (await journal.runs(plan, 20)).find((r) => !isRecordOnly(r));
  // POINT_OF_NO_RETURN is finished by hand (its hint says what is left): a run could neither
  // undo it nor safely redo it, and nothing yet records that an operator did (no resolve
  // command in this version), so it does not hold the plan.
  return last?.status === 'failed' && last.error?.code !== 'POINT_OF_NO_RETURN' ? last : undefined;
}
