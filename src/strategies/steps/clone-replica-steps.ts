/**
 * The MariaDB `replica` clone's own steps (src/clone/mysql-replica.ts does the work); the
 * migrate, analyze and fleet steps are the PostgreSQL ones.
 *
 * `clone:prepare`: the objects named and journaled first (clone database, replication
 * connection, replication user), then the clone database, one consistent `mariadb-dump` copy,
 * and the replica started from the dump's GTID position and caught up. Rollback: replica stopped
 * and reset, replication user dropped, clone database dropped, whatever exists.
 *
 * `clone:cutover`: the freeze, bounded by `freeze.maxDuration`, in the phases freeze on
 * (read_only), in-flight drained (after `grace`, killed), caught up (MASTER_GTID_WAIT of the
 * live position), finalized (replica stopped and reset, user dropped, AUTO_INCREMENT moved up).
 * Rollback: read_only back to its previous value. A freeze interrupted by a crash is never
 * resumed: the re-run rolls it back.
 */
import type { Step, StepContext } from '../../core/engine/step.js';
import {
  applyFreeze,
  catchUp,
  cloneDatabaseExists,
  copyToClone,
  createCloneDatabase,
  createReplicationUser,
  drainWriters,
  dropCloneDatabase,
  dropReplicationUser,
  planFreeze,
  slavePos,
  startReplica,
  stopReplica,
  syncAutoIncrement,
  unfreeze,
} from '../../clone/mysql-replica.js';
import { replicaObjectNames } from '../../clone/mysql-sql.js';
import type { Phase } from '../../clone/pg-logical.js';
import { REPLICA, REPLICA_FREEZE, type CloneTarget } from '../../clone/target.js';
import { ExitCode, MaintError } from '../../errors.js';
import type { CloneFreezeConfig, DatabaseConfig } from '../../plan/schema.js';
import type { FreezeTimer } from './clone-cutover-step.js';
import { reportFrozen, switchToClone } from './freeze-report.js';

const mysql = (url: string): DatabaseConfig => ({ engine: 'mysql', url });

export function replicaPrepareStep(options: { target: CloneTarget; live: DatabaseConfig }): Step {
  const { target, live } = options;
  return {
    name: 'clone:prepare',
    defaultEstimateMs: 30_000,
    defaultRollbackMs: 5_000,
    async run(ctx) {
      const admin = await ctx.ports.openDatabase(mysql(target.adminUrl));
      if (ctx.state.get(REPLICA)) {
        // A resumed run starts the copy again from nothing.
        ctx.progress('an earlier attempt left a partial clone: dropping it first');
        await dropReplica(ctx, target);
      } else if (await cloneDatabaseExists(admin, target.database)) {
        throw new MaintError(
          'CLONE_EXISTS',
          ExitCode.rolledBack,
          `the clone database ${target.database} exists already; maint drops only what it created`,
          { hint: 'Drop that database, or name another one in strategy.clone.url, then run again.' },
        );
      }
      const liveDatabase = ctx.db.databaseName ?? '';
      const objects = {
        ...replicaObjectNames(ctx.runId, target.database, liveDatabase),
        previousSlavePos: await slavePos(admin),
      };
      await ctx.state.set(REPLICA, objects);
      const started = performance.now();
      await createCloneDatabase(admin, objects, ctx.runId);
      // Before the copy, so nothing about it follows the GTID position the replica starts from.
      const password = await createReplicationUser(ctx.db, objects);
      ctx.progress(`copying ${liveDatabase} to ${target.masked} (mariadb-dump, one snapshot)`);
      const position = await copyToClone(live.url, target.url, ctx.signal);
      ctx.progress(`replicating from GTID ${position}`);
      await startReplica(ctx.db, admin, objects, live.url, password, position, ctx.signal);
      const clone = await ctx.ports.openDatabase(mysql(target.url));
      const tables = await clone.listTables();
      return {
        summary: `clone ${target.database} replicating and caught up (${tables.length} tables, ${Math.round(performance.now() - started)} ms)`,
        clone: { database: target.database, url: target.masked, tables: tables.length },
        replication: { connection: objects.connection, user: objects.user, position },
      };
    },
    async rollback(ctx) {
      if (!ctx.state.get(REPLICA)) return { summary: 'no clone was made' };
      const dropped = await dropReplica(ctx, target);
      return {
        summary: dropped
          ? `dropped the clone ${target.database}, its replica connection and the replication user`
          : 'dropped the replica connection and the replication user',
      };
    },
  };
}

/** Stop and reset the replica, drop the replication user and the clone database: each only if it exists. */
async function dropReplica(ctx: StepContext, target: CloneTarget): Promise<boolean> {
  const objects = ctx.state.get(REPLICA)!;
  const admin = await ctx.ports.openDatabase(mysql(target.adminUrl));
  await stopReplica(admin, objects);
  await dropReplicationUser(ctx.db, objects);
  return dropCloneDatabase(admin, objects);
}

export function replicaCutoverStep(options: {
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
      const objects = ctx.state.get(REPLICA);
      if (!objects) throw new MaintError('CLONE_MISSING', ExitCode.rolledBack, 'no clone was prepared');
      const earlier = ctx.state.get(REPLICA_FREEZE);
      if (earlier)
        throw new MaintError(
          'CLONE_FREEZE_INTERRUPTED',
          ExitCode.rolledBack,
          `the freeze begun at ${earlier.startedAt} by process ${earlier.pid} was interrupted; a freeze is never resumed, so it is undone`,
          { hint: 'Run again: the clone is made afresh.' },
        );
      const admin = await ctx.ports.openDatabase(mysql(target.adminUrl));
      const { previousReadOnly, users } = await planFreeze(ctx.db);
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
      // Journaled first: a crash between here and the freeze still unfreezes (to the value recorded).
      const record = { startedAt: new Date().toISOString(), previousReadOnly, users, pid: process.pid };
      await ctx.state.set(REPLICA_FREEZE, record);
      const startedAt = await applyFreeze(ctx.db);
      await ctx.state.set(REPLICA_FREEZE, { ...record, startedAt });
      mark(
        'freeze on',
        `read_only on the live server (writes of ${users.join(', ') || 'no application user'} refused)`,
      );
      const ended = await drainWriters(ctx.db, grace, ctx.signal);
      mark(
        'in-flight drained',
        ended > 0 ? `killed ${ended} transactions still writing after ${grace} ms` : 'no writes in flight',
      );
      const position = await catchUp(ctx.db, admin, objects, ctx.signal);
      mark('caught up', `clone at the live GTID position ${position}`);
      await stopReplica(admin, objects);
      await dropReplicationUser(ctx.db, objects);
      const autoIncrements = await syncAutoIncrement(ctx.db, admin, objects);
      mark(
        'finalized',
        `replica stopped and reset, replication user dropped, ${autoIncrements} AUTO_INCREMENT moved up`,
      );
      const totalMs = Math.round(performance.now() - t0);
      const detail = {
        freeze: { totalMs, phases },
        databaseUrl: target.masked,
        endedTransactions: ended,
        autoIncrements,
        position,
      };
      if (timer)
        return {
          summary: `clone final after ${totalMs} ms of freeze; the new fleet takes the traffic next`,
          ...detail,
        };
      reportFrozen(ctx, totalMs, phases, target.masked);
      return {
        summary: `writes frozen ${totalMs} ms; the application must now use ${target.masked} (the plan's database.url still names the old database: point the application and the plan at the clone)`,
        ...detail,
        next: switchToClone(target.masked),
      };
    },
    async rollback(ctx) {
      const record = ctx.state.get(REPLICA_FREEZE);
      if (!record) return { summary: 'the live database was never frozen' };
      await unfreeze(ctx.db, record);
      return {
        summary: `live server writable again (read_only = ${record.previousReadOnly ? 'ON' : 'OFF'})`,
      };
    },
  };
}
