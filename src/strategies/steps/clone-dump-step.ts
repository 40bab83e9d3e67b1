/**
 * `clone:cutover` of the `dump` method: the copy is made during the freeze, so the freeze lasts
 * as long as the copy (estimated and refused in preflight when longer than `freeze.maxDuration`).
 * Phases, each measured: writes refused on the live database (as for `logical`) → in-flight
 * writers drained (after `grace`, ended) → copied (`pg_dump | psql`: one snapshot with every write
 * committed before the freeze, sequences included; the write grants the freeze revoked are
 * granted again on the copy) → migrated (the pending migrations applied to
 * the copy). Bounded by `maxDuration` (the step's deadline). Rollback = unfreeze; clone:prepare's
 * rollback drops the clone. A freeze interrupted by a crash is never resumed.
 */
import type { Step } from '../../core/engine/step.js';
import { doneByInterruptedRun, reportFrozen, rollbackFreeze, switchToClone } from './freeze-report.js';
import {
  OWN_TABLES,
  applyFreeze,
  drainWriters,
  dumpEstimateMs,
  planFreeze,
  type Phase,
} from '../../clone/pg-logical.js';
import { regrantSql } from '../../clone/pg-sql.js';
import { copyDatabase } from '../../clone/pg-tools.js';
import { CLONE, CLONE_FINAL, FREEZE, type CloneTarget } from '../../clone/target.js';
import { ExitCode, MaintError } from '../../errors.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { CloneFreezeConfig, DatabaseConfig } from '../../plan/schema.js';
import { migrateClone } from './clone-migrate-step.js';

export function cloneDumpStep(options: {
  target: CloneTarget;
  config: CloneFreezeConfig;
  loaded: LoadedPlan;
  live: DatabaseConfig;
  /** False when the plan has no migrations folder. */
  migrate: boolean;
}): Step {
  const { target, config, loaded } = options;
  const { grace, maxDuration } = config.freeze;
  return {
    name: 'clone:cutover',
    defaultEstimateMs: Math.min(maxDuration, grace + dumpEstimateMs(0) + 2000),
    defaultRollbackMs: 2000,
    deadlineMs: maxDuration,
    async run(ctx) {
      const done = doneByInterruptedRun(ctx);
      if (done) return { ...done, freeze: ctx.state.get(CLONE_FINAL)!.freeze, databaseUrl: target.masked };
      if (!ctx.state.get(CLONE))
        throw new MaintError('CLONE_MISSING', ExitCode.rolledBack, 'no clone database was created');
      const earlier = ctx.state.get(FREEZE);
      if (earlier)
        throw new MaintError(
          'CLONE_FREEZE_INTERRUPTED',
          ExitCode.rolledBack,
          `the freeze begun at ${earlier.startedAt} by process ${earlier.pid} was interrupted; a freeze is never resumed, so it is undone`,
          { hint: 'Run again: the clone is made afresh.' },
        );
      const roles = await planFreeze(ctx.db);
      const phases: Phase[] = [];
      const t0 = performance.now();
      let last = t0;
      const mark = (name: string, line: string) => {
        const now = performance.now();
        phases.push({ name, ms: Math.round(now - last) });
        last = now;
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
      await copyDatabase(options.live.url, target.url, [...OWN_TABLES], ctx.signal);
      // The copy was taken with the application's write grants revoked: the clone gets them back.
      const clone = await ctx.ports.openDatabase({ engine: 'postgres', url: target.url });
      await clone.transaction(async (tx) => {
        for (const r of roles) for (const sql of regrantSql(r.role, r.grants)) await tx.query(sql);
      });
      mark('copied', `the database copied to ${target.masked}`);
      const applied = options.migrate ? await migrateClone(ctx, target, loaded) : [];
      mark('migrated', applied.length > 0 ? `applied ${applied.join(', ')} to the clone` : 'nothing pending');
      const totalMs = Math.round(performance.now() - t0);
      await ctx.state.set(CLONE_FINAL, { at: new Date().toISOString(), freeze: { totalMs, phases } });
      reportFrozen(ctx, totalMs, phases, target.masked);
      return {
        summary: `writes frozen ${totalMs} ms while the database was copied; the application must now use ${target.masked} (the plan's database.url still names the old database: point the application and the plan at the clone)`,
        freeze: { totalMs, phases },
        databaseUrl: target.masked,
        endedTransactions: ended,
        applied,
        next: switchToClone(target.masked),
      };
    },
    rollback: rollbackFreeze,
  };
}
