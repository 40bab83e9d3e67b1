/**
 * The run a plan's next run must settle first: one interrupted (its process died while it was
 * `running` or `rolling_back`), or the newest run when it ended `failed` (exit 6: a rollback
 * that did not finish, a half-applied migration, a lost lock). A failed run stays unresolved
 * until a later run settles it (resumes it, or finishes its rollback): `maint gate` refuses
 * meanwhile, and `maint status` shows it.
 */
import type { Journal, RunRecord } from './journal.js';

export async function runToSettle(journal: Journal, plan: string): Promise<RunRecord | undefined> {
  const unfinished = (await journal.unfinished(plan))[0];
  if (unfinished) return unfinished;
  const last = (await journal.runs(plan, 1))[0];
  return last?.status === 'failed' ? last : undefined;
}
