/**
 * `fleet:warm` (clone-freeze with a blue-green fleet): the new release started on the idle
 * servers against the clone (`MAINT_DATABASE_URL` = the clone's URL), gated by the load
 * balancer's checks and maint's probe while the old fleet keeps all the traffic on the live
 * database. Rollback: the new servers drained, set `maint` and stopped; the old fleet is
 * verified serving (it never stopped).
 */
import { RELEASE } from '../../core/engine/state.js';
import type { Step } from '../../core/engine/step.js';
import type { CloneTarget } from '../../clone/target.js';
import type { BatchReport } from '../../fleet/fleet.js';
import { FLEET_PROGRESS, fleetRollStep, rollHooks, type FleetStepInput } from './fleet-step.js';
import { doneByInterruptedRun } from './freeze-report.js';

export function fleetWarmStep(input: FleetStepInput, target: CloneTarget): Step {
  const { fleet, release } = input;
  const batches: BatchReport[] = [];
  // The undo is the roll's own: the previous release back in service (verified), green stopped.
  const undo = fleetRollStep(input);
  return {
    name: 'fleet:warm',
    defaultEstimateMs: input.preview.estimateMs,
    defaultRollbackMs: input.preview.estimateMs,
    async run(ctx) {
      // The new servers the interrupted run warmed are left as they are: fleet:shift takes them.
      const done = doneByInterruptedRun(ctx);
      if (done) return { ...done, databaseUrl: target.masked };
      const journaled = ctx.state.get(RELEASE);
      const previous = journaled?.before ?? input.previous;
      await ctx.state.set(RELEASE, {
        before: previous,
        after: null,
        lastMigration: journaled?.lastMigration ?? input.lastPending,
      });
      await fleet.warm!(
        { release, previous, resume: ctx.state.get(FLEET_PROGRESS) ?? null, databaseUrl: target.url },
        rollHooks(ctx, batches, 0),
      );
      const members = batches[0]?.members ?? [];
      return {
        summary: `${members.join(', ')} warm on ${release} against ${target.masked} (no traffic yet)`,
        provider: fleet.provider,
        mode: fleet.mode,
        from: previous,
        to: release,
        members,
        databaseUrl: target.masked,
        batches,
      };
    },
    rollback: undo.rollback!,
    ...(undo.rollbackFailedHint ? { rollbackFailedHint: undo.rollbackFailedHint } : {}),
  };
}
