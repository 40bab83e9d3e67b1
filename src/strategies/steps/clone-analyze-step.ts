/**
 * `clone:analyze`: planner statistics for the migrated clone, gathered while the live database
 * still serves, so the freeze does not wait for them (the few writes of the last seconds before
 * the freeze barely move them; autovacuum on the clone refreshes them later). With `logical`
 * (before the freeze) it then waits, still unfrozen, until the clone has confirmed the live
 * server's WAL position twice: the slot's sender reads the whole cluster's WAL, the clone's own
 * initial copy, index builds and ANALYZE included (about the database's size), and measured at
 * 1 GB it was still reading when the freeze began (catch-up 1079 ms inside the freeze). Nothing
 * to undo.
 */
import type { Step } from '../../core/engine/step.js';
import { catchUp } from '../../clone/pg-logical.js';
import { CLONE, type CloneTarget } from '../../clone/target.js';
import { deadline } from '../../support/deadline.js';
import { doneByInterruptedRun } from './freeze-report.js';

/** How long clone:analyze waits for the clone to confirm the live WAL before the freeze. */
const CATCH_UP_BOUND_MS = 20_000;

export function cloneAnalyzeStep(options: {
  target: CloneTarget;
  /** `dump`: after the freeze, so a resumed run still analyzes. @default false */
  afterCutover?: boolean;
}): Step {
  return {
    name: 'clone:analyze',
    defaultEstimateMs: 5000,
    defaultRollbackMs: 0,
    async run(ctx) {
      const done = options.afterCutover ? null : doneByInterruptedRun(ctx);
      if (done) return done;
      const clone = await ctx.ports.openDatabase({ engine: options.target.engine, url: options.target.url });
      const report = await clone.analyze({ mode: 'full', vacuum: false, signal: ctx.signal });
      const objects = options.afterCutover ? undefined : ctx.state.get(CLONE);
      if (!objects)
        return { summary: `analyzed ${report.tables.length} tables of the clone`, tables: report.tables };
      // Unfrozen: the first wait may be long (the backlog), the second only what came meanwhile.
      // Bounded: a clone that does not catch up (its apply blocked) is the freeze's to judge,
      // under its own deadline (maxDuration).
      const started = performance.now();
      const bound = deadline(CATCH_UP_BOUND_MS, ctx.signal);
      let caughtUp = true;
      try {
        await catchUp(ctx.db, objects, bound.signal);
        await catchUp(ctx.db, objects, bound.signal);
      } catch (error) {
        if (ctx.signal.aborted || !bound.timedOut()) throw error;
        caughtUp = false;
      } finally {
        bound.clear();
      }
      const caughtUpMs = Math.round(performance.now() - started);
      return {
        summary: `analyzed ${report.tables.length} tables of the clone; ${caughtUp ? `replication caught up (${caughtUpMs} ms)` : `replication still behind after ${caughtUpMs} ms (the freeze's catch-up waits for the rest)`}`,
        tables: report.tables,
        caughtUpMs,
        caughtUp,
      };
    },
    // Statistics change nothing a rollback must undo; the clone itself is dropped by clone:prepare.
    async rollback() {
      return { summary: 'nothing to undo' };
    },
  };
}
