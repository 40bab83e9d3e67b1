/**
 * What the two freezing `clone:cutover` steps (methods `logical` and `dump`) share: the
 * `clone.frozen` report, the "switch to the clone" next step, and the rollback that unfreezes.
 */
import type { StepContext, StepDetail } from '../../core/engine/step.js';
import { unfreeze, type Phase } from '../../clone/pg-logical.js';
import { CLONE_FINAL, FREEZE } from '../../clone/target.js';

/** Reports the freeze (`clone.frozen`) with its phases and the database to use from now on. */
export function reportFrozen(ctx: StepContext, totalMs: number, phases: Phase[], masked: string): void {
  ctx.report(
    'clone.frozen',
    { totalMs, phases, databaseUrl: masked },
    `writes were frozen ${totalMs} ms (${phases.map((p) => `${p.name} ${p.ms} ms`).join(', ')}); use ${masked} from now on`,
  );
}

/** The step's `next`: the plan's URL still names the old database. */
export function switchToClone(masked: string): string {
  return (
    `The plan's database.url still names the old (frozen, read-only for the application) database. ` +
    `Point the application and the plan's database.url at ${masked} (for example by setting the variable the plan reads), then deploy; drop the old database when you no longer need it.`
  );
}

/** Rollback of a freezing step: the live database writable again. */
export async function rollbackFreeze(ctx: StepContext): Promise<StepDetail> {
  const record = ctx.state.get(FREEZE);
  if (!record) return { summary: 'the live database was never frozen' };
  const ended = await unfreeze(ctx.db, record);
  return {
    summary: `live database writable again${ended > 0 ? ` (${ended} sessions opened read-only during the freeze were ended)` : ''}`,
  };
}

/**
 * In a run resumed after `clone:cutover` finished (the clone is final): what a step before the
 * shift reports instead of acting again (it must not copy, migrate or freeze anew). Else null.
 */
export function doneByInterruptedRun(ctx: StepContext): StepDetail | null {
  const final = ctx.state.get(CLONE_FINAL);
  if (!final) return null;
  return {
    summary: `done by the interrupted run (the clone has been final since ${final.at}); not repeated`,
    resumed: true,
  };
}
