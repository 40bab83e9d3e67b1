/**
 * `clone:cutover` of the `template` method: an OFFLINE copy. `CREATE DATABASE clone TEMPLATE
 * live` needs zero sessions on the live database, so reads stop too while it copies. Phases,
 * each measured: freeze on (the application's writes refused, as for `logical`; reads go on) →
 * in-flight drained (writers get `grace`, then are ended) → connections blocked (`ALLOW_CONNECTIONS
 * false`, journaled first) → sessions ended (every session on the live database, maint's pooled
 * journal connections too; the lock is held from `database.lockUrl`, another database) → copied
 * → reopened (connections allowed again; the live database stays frozen for the application's
 * writes, so no write can land there that the clone lacks) → migrated (the clone).
 *
 * No journal write happens between "connections blocked" and "reopened": the journal lives in
 * the live database. The reopen runs in a `finally`, the rollback repeats it, and a re-run after
 * kill -9 finds the block's mark from the admin connection (src/clone/default-cloner.ts).
 * Rollback: connections allowed again, the clone dropped, the freeze undone.
 */
import type { Step, StepContext, StepDetail } from '../../core/engine/step.js';
import { applyFreeze, drainWriters, planFreeze, unfreeze, type Phase } from '../../clone/pg-logical.js';
import { regrantSql } from '../../clone/pg-sql.js';
import {
  assertNoLockSession,
  blockConnections,
  copyFromTemplate,
  endSessions,
  reopenConnections,
  templateEstimateMs,
} from '../../clone/pg-template.js';
import { databaseOf } from '../../clone/pg-tools.js';
import { CLONE_FINAL, FREEZE, TEMPLATE_BLOCK, type CloneTarget } from '../../clone/target.js';
import { LOCK_HOLDERS_TABLE } from '../../db/sql.js';
import { RUNS_TABLE, STEPS_TABLE } from '../../core/journal/journal-sql.js';
import { ExitCode, MaintError } from '../../errors.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { CloneFreezeConfig, DatabaseConfig } from '../../plan/schema.js';
import { migrateClone } from './clone-migrate-step.js';
import { doneByInterruptedRun, reportFrozen } from './freeze-report.js';

const pg = (url: string): DatabaseConfig => ({ engine: 'postgres', url });

export function cloneTemplateStep(options: {
  target: CloneTarget;
  config: CloneFreezeConfig;
  loaded: LoadedPlan;
  live: DatabaseConfig;
  migrate: boolean;
}): Step {
  const { target, config, loaded } = options;
  const { grace, maxDuration } = config.freeze;
  const liveName = databaseOf(options.live.url);
  return {
    name: 'clone:cutover',
    defaultEstimateMs: Math.min(maxDuration, grace + templateEstimateMs(0) + 2000),
    defaultRollbackMs: 2000,
    deadlineMs: maxDuration,
    async run(ctx) {
      const done = doneByInterruptedRun(ctx);
      if (done) return { ...done, freeze: ctx.state.get(CLONE_FINAL)!.freeze, databaseUrl: target.masked };
      const earlier = ctx.state.get(FREEZE);
      if (earlier || ctx.state.get(TEMPLATE_BLOCK))
        throw new MaintError(
          'CLONE_FREEZE_INTERRUPTED',
          ExitCode.rolledBack,
          `the offline copy begun${earlier ? ` at ${earlier.startedAt} by process ${earlier.pid}` : ''} was interrupted; it is never resumed, so it is undone`,
          { hint: 'Run again: the clone is made afresh.' },
        );
      const admin = await ctx.ports.openDatabase(pg(target.adminUrl));
      if ((await admin.query('select 1 from pg_database where datname = $1', [target.database])).length > 0)
        throw new MaintError(
          'CLONE_EXISTS',
          ExitCode.rolledBack,
          `the clone database ${target.database} exists already; maint drops only what it created`,
          { hint: 'Drop that database, or name another one in strategy.clone.url, then run again.' },
        );
      await assertNoLockSession(admin, liveName);
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
      await ctx.state.set(FREEZE, { startedAt: new Date().toISOString(), roles, pid: process.pid });
      const startedAt = await applyFreeze(ctx.db, roles);
      await ctx.state.set(FREEZE, { startedAt, roles, pid: process.pid });
      mark('freeze on', `writes refused for ${roles.map((r) => r.role).join(', ') || 'no application role'}`);
      const drained = await drainWriters(ctx.db, { startedAt, roles, pid: process.pid }, grace, ctx.signal);
      mark(
        'in-flight drained',
        drained > 0 ? `ended ${drained} transactions still writing after ${grace} ms` : 'no writes in flight',
      );
      // The last journal write until the reopen: the journal is in the database being closed.
      await ctx.state.set(TEMPLATE_BLOCK, { live: liveName, clone: target.database, runId: ctx.runId });
      let ended = 0;
      try {
        await blockConnections(admin, liveName, ctx.runId);
        mark('connections blocked', `new connections to ${liveName} refused (reads stop too)`);
        ended = await endSessions(admin, liveName, ctx.signal);
        mark('sessions ended', `ended ${ended} sessions on ${liveName} (maint's own included)`);
        await copyFromTemplate(admin, liveName, target.database, ctx.signal);
        mark('copied', `CREATE DATABASE ${target.database} TEMPLATE ${liveName}`);
      } finally {
        // Always, also when the copy failed or the deadline aborted it.
        await reopenConnections(admin, liveName);
      }
      mark('reopened', `${liveName} accepts connections again (still read-only for the application)`);
      const clone = await ctx.ports.openDatabase(pg(target.url));
      await clone.transaction(async (tx) => {
        // The copy carries the journal of this very run: the clone starts with an empty one.
        for (const table of [STEPS_TABLE, RUNS_TABLE, LOCK_HOLDERS_TABLE])
          await tx.query(
            `do $$ begin if to_regclass('${table}') is not null then execute 'delete from ${table}'; end if; end $$`,
          );
        // It was copied with the application's write grants revoked: the clone gets them back.
        for (const r of roles) for (const sql of regrantSql(r.role, r.grants)) await tx.query(sql);
      });
      const applied = options.migrate ? await migrateClone(ctx, target, loaded) : [];
      mark('migrated', applied.length > 0 ? `applied ${applied.join(', ')} to the clone` : 'nothing pending');
      const totalMs = Math.round(performance.now() - t0);
      const offlineMs = phases
        .filter((p) => ['sessions ended', 'copied', 'reopened'].includes(p.name))
        .reduce((a, p) => a + p.ms, 0);
      await ctx.state.set(CLONE_FINAL, { at: new Date().toISOString(), freeze: { totalMs, phases } });
      reportFrozen(ctx, totalMs, phases, target.masked);
      return {
        summary: `offline ${offlineMs} ms (no reads or writes) and writes frozen ${totalMs} ms in all while ${liveName} was copied; the application must now use ${target.masked}`,
        freeze: { totalMs, phases },
        offlineMs,
        databaseUrl: target.masked,
        endedSessions: ended,
        endedTransactions: drained,
        applied,
        next:
          `The old database ${liveName} accepts connections again but stays read-only for the application (its writes are refused, so none is lost: ` +
          `writes there would not be in the clone). Point the application and the plan's database.url at ${target.masked}, then deploy; drop the old database when you no longer need it.`,
      };
    },
    rollback: (ctx) => rollbackTemplate(ctx, target, liveName),
  };
}

/** Connections allowed again (only maint's block), the clone dropped, the freeze undone. */
async function rollbackTemplate(
  ctx: StepContext,
  target: CloneTarget,
  liveName: string,
): Promise<StepDetail> {
  const parts: string[] = [];
  const admin = await ctx.ports.openDatabase(pg(target.adminUrl));
  const block = ctx.state.get(TEMPLATE_BLOCK);
  if (block && (await reopenConnections(admin, liveName)))
    parts.push(`${liveName} accepts connections again`);
  if (block) {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [block.clone]);
    if (exists.length > 0) {
      await admin.query(`drop database "${block.clone.replace(/"/g, '""')}" with (force)`);
      parts.push(`dropped the clone ${block.clone}`);
    }
  }
  const record = ctx.state.get(FREEZE);
  if (record) {
    const ended = await unfreeze(ctx.db, record);
    parts.push(
      `live database writable again${ended > 0 ? ` (${ended} sessions opened read-only during the freeze were ended)` : ''}`,
    );
  }
  return { summary: parts.length > 0 ? parts.join('; ') : 'nothing was changed' };
}
