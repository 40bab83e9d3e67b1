/**
 * `clone:cutover`: the freeze, bounded by `freeze.maxDuration` (the step's own deadline).
 * Phases, each measured: writes refused on the live database (the application roles' grants
 * revoked and their new sessions read-only; reads keep working) → in-flight writers drained
 * (after `grace`, ended) → the clone caught up to the freeze LSN → finalized (sequences set,
 * subscription, slot and publication dropped; the clone was analyzed before, by clone:analyze). Rollback (before any traffic
 * moved) = unfreeze; clone:prepare's rollback then drops the clone. A freeze interrupted by a
 * crash is never resumed: its time is already spent, so the re-run rolls it back.
 */
import type { Step } from '../../core/engine/step.js';
import { doneByInterruptedRun, reportFrozen, rollbackFreeze, switchToClone } from './freeze-report.js';
import {
  applyFreeze,
  catchUp,
  detach,
  drainWriters,
  planFreeze,
  syncSequences,
  type Phase,
} from '../../clone/pg-logical.js';
import { CLONE, CLONE_FINAL, FREEZE, type CloneTarget } from '../../clone/target.js';
import { ExitCode, MaintError } from '../../errors.js';
import type { CloneFreezeConfig } from '../../plan/schema.js';

/**
 * The freeze as measured so far, shared in memory with `fleet:shift` (which adds the traffic
 * shift and reports the whole freeze). Empty in a process that did not run the cutover.
 */
export interface FreezeTimer {
  /** `performance.now()` when the freeze went on. */
  t0: number | null;
  /** `performance.now()` at the end of the last phase. */
  last: number;
  phases: Phase[];
}

export function freezeTimer(): FreezeTimer {
  return { t0: null, last: 0, phases: [] };
}

export function cloneCutoverStep(options: {
  target: CloneTarget;
  config: CloneFreezeConfig;
  /** Set when a new fleet takes the traffic after the cutover (`fleet:shift` reports the freeze). */
  timer?: FreezeTimer;
}): Step {
  const { target, config } = options;
  const { grace, maxDuration } = config.freeze;
  return {
    name: 'clone:cutover',
    defaultEstimateMs: Math.min(maxDuration, grace + 2000),
    defaultRollbackMs: 2000,
    deadlineMs: maxDuration,
    async run(ctx) {
      const done = doneByInterruptedRun(ctx);
      if (done) return { ...done, freeze: ctx.state.get(CLONE_FINAL)!.freeze, databaseUrl: target.masked };
      const objects = ctx.state.get(CLONE);
      if (!objects) throw new MaintError('CLONE_MISSING', ExitCode.rolledBack, 'no clone was prepared');
      const earlier = ctx.state.get(FREEZE);
      if (earlier)
        throw new MaintError(
          'CLONE_FREEZE_INTERRUPTED',
          ExitCode.rolledBack,
          `the freeze begun at ${earlier.startedAt} by process ${earlier.pid} was interrupted; a freeze is never resumed, so it is undone`,
          { hint: 'Run again: the clone is made afresh.' },
        );
      const clone = await ctx.ports.openDatabase({ engine: 'postgres', url: target.url });
      const roles = await planFreeze(ctx.db);
      const phases: Phase[] = [];
      const t0 = performance.now();
      let last = t0;
      const timer = options.timer;
      if (timer) Object.assign(timer, { t0, last, phases });
      const mark = (name: string, line: string) => {
        const now = performance.now();
        phases.push({ name, ms: Math.round(now - last) });
        last = now;
        if (timer) timer.last = now;
        ctx.progress(`${line} (${Math.round(now - t0)} ms into the freeze)`);
      };
      // Journaled first: a crash between here and the freeze still unfreezes (a no-op then).
      await ctx.state.set(FREEZE, { startedAt: new Date().toISOString(), roles, pid: process.pid });
      const startedAt = await applyFreeze(ctx.db, roles);
      await ctx.state.set(FREEZE, { startedAt, roles, pid: process.pid });
      mark('freeze on', `writes refused for ${roles.map((r) => r.role).join(', ') || 'no application role'}`);
      const ended = await drainWriters(ctx.db, { startedAt, roles, pid: process.pid }, grace, ctx.signal);
      mark(
        'in-flight drained',
        ended > 0 ? `ended ${ended} transactions still writing after ${grace} ms` : 'no writes in flight',
      );
      const lsn = await catchUp(ctx.db, objects, ctx.signal);
      mark('caught up', `clone at the freeze position ${lsn}`);
      // The parts of `finalized`, measured (ms), in the step's detail.
      const finalize: Record<string, number> = {};
      let part = performance.now();
      const partDone = (name: string) => {
        const now = performance.now();
        finalize[name] = Math.round(now - part);
        part = now;
      };
      const sequences = await syncSequences(ctx.db, clone);
      partDone('sequences set');
      await detach(ctx.db, clone, objects, ctx.signal, partDone);
      // The clone was analyzed before the freeze (clone:analyze): the freeze does not wait for it.
      mark('finalized', `${sequences} sequences set, replication detached`);
      const totalMs = Math.round(performance.now() - t0);
      // From here a run killed is resumed (the shift, or nothing left): the clone is final.
      await ctx.state.set(CLONE_FINAL, { at: new Date().toISOString(), freeze: { totalMs, phases } });
      if (timer) {
        // The freeze lasts until the new fleet takes the traffic: fleet:shift reports it whole.
        return {
          summary: `clone final after ${totalMs} ms of freeze; the new fleet takes the traffic next`,
          freeze: { totalMs, phases },
          databaseUrl: target.masked,
          endedTransactions: ended,
          sequences,
          finalize,
        };
      }
      reportFrozen(ctx, totalMs, phases, target.masked);
      return {
        summary: `writes frozen ${totalMs} ms; the application must now use ${target.masked} (the plan's database.url still names the old database: point the application and the plan at the clone)`,
        freeze: { totalMs, phases },
        databaseUrl: target.masked,
        endedTransactions: ended,
        sequences,
        finalize,
        next: switchToClone(target.masked),
      };
    },
    rollback: rollbackFreeze,
  };
}
