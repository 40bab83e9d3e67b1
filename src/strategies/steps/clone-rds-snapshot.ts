/**
 * clone-freeze `method: rds-snapshot` (PostgreSQL on Amazon RDS): the copy is a snapshot restored
 * to a new instance, made while writes are frozen (the freeze covers snapshot + restore, so it is
 * estimated and refused in preflight when longer than `freeze.maxDuration`, like `dump`).
 * `clone:cutover` phases: freeze on (as for `logical`) → in-flight drained → snapshot
 * (CreateDBSnapshot, available read several times in a row) → restored
 * (RestoreDBInstanceFromDBSnapshot, the instance available; the write grants the freeze revoked
 * granted again on it) → migrated (the pending migrations applied to it). Then `clone:analyze`.
 * The old instance stays frozen (as for the other methods); the new URL is the restored
 * instance's endpoint. Rollback: the restored instance and the snapshot deleted, unfreeze.
 */
import { stateKey } from '../../core/engine/state.js';
import type { Step, StepContext } from '../../core/engine/step.js';
import { applyFreeze, drainWriters, planFreeze, type Phase } from '../../clone/pg-logical.js';
import { regrantSql } from '../../clone/pg-sql.js';
import { describeInstance, describeSnapshot, instanceReady, openRds, waitFor } from '../../clone/rds.js';
import { FREEZE, type CloneTarget } from '../../clone/target.js';
import { ExitCode, MaintError } from '../../errors.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { CloneFreezeConfig } from '../../plan/schema.js';
import type { CloneRdsConfig } from '../../plan/schema-rds.js';
import { greenTarget } from './clone-rds-blue-green.js';
import { migrateClone } from './clone-migrate-step.js';
import { reportFrozen, rollbackFreeze, switchToClone } from './freeze-report.js';

export interface SnapshotRecord {
  snapshot: string;
  instance: string;
  endpoint: { host: string; port: number } | null;
}

export const RDS_SNAPSHOT = stateKey<SnapshotRecord>('clone.rds-snapshot');

/** Default snapshot + restore time when the plan gives no `estimate`. */
export const RDS_SNAPSHOT_ESTIMATE_MS = 10 * 60_000;

function ids(rds: CloneRdsConfig, runId: string): { snapshot: string; instance: string } {
  const suffix = runId
    .replace(/[^A-Za-z0-9]+/g, '-')
    .slice(0, 24)
    .replace(/-+$/, '');
  const instance = (rds.restoreInstance ?? `${rds.instance}-maint-${suffix}`).slice(0, 63).replace(/-+$/, '');
  return { snapshot: `maint-${suffix}`, instance };
}

export function rdsSnapshotSteps(options: {
  config: CloneFreezeConfig;
  rds: CloneRdsConfig;
  loaded: LoadedPlan;
  migrate: boolean;
}): Step[] {
  const { rds, loaded, config } = options;
  const { grace, maxDuration } = config.freeze;
  const planUrl = loaded.plan.database.url;
  const targetOf = (r: SnapshotRecord): CloneTarget => greenTarget(planUrl, r.endpoint!);

  const cutover: Step = {
    name: 'clone:cutover',
    defaultEstimateMs: Math.min(maxDuration, grace + (rds.estimate ?? RDS_SNAPSHOT_ESTIMATE_MS)),
    defaultRollbackMs: 10 * 60_000,
    deadlineMs: maxDuration,
    async run(ctx) {
      const earlier = ctx.state.get(FREEZE);
      if (earlier)
        throw new MaintError(
          'CLONE_FREEZE_INTERRUPTED',
          ExitCode.rolledBack,
          `the freeze begun at ${earlier.startedAt} by process ${earlier.pid} was interrupted; a freeze is never resumed, so it is undone`,
          { hint: 'Run again: the snapshot is made afresh.' },
        );
      const api = await openRds(rds);
      try {
        const wait = {
          pollMs: rds.pollInterval,
          timeoutMs: Math.min(rds.waitTimeout, maxDuration),
          signal: ctx.signal,
        };
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
        mark(
          'freeze on',
          `writes refused for ${roles.map((r) => r.role).join(', ') || 'no application role'}`,
        );
        const ended = await drainWriters(ctx.db, { startedAt, roles, pid: process.pid }, grace, ctx.signal);
        mark(
          'in-flight drained',
          ended > 0 ? `ended ${ended} transactions still writing after ${grace} ms` : 'no writes in flight',
        );

        const names = ids(rds, ctx.runId);
        const rec: SnapshotRecord = { ...names, endpoint: null };
        // Journaled before each is created: the rollback deletes whatever exists.
        await ctx.state.set(RDS_SNAPSHOT, rec);
        await api.call(
          'CreateDBSnapshot',
          { DBSnapshotIdentifier: names.snapshot, DBInstanceIdentifier: rds.instance },
          ctx.signal,
        );
        const snap = await waitFor(
          `the snapshot ${names.snapshot}`,
          () => describeSnapshot(api, names.snapshot, ctx.signal),
          (s) =>
            !s
              ? { why: 'not found (yet)' }
              : s.status === 'available'
                ? { why: '' }
                : s.status === 'failed'
                  ? { why: 'failed', failed: true }
                  : { why: s.status },
          wait,
        );
        mark('snapshot', `snapshot ${names.snapshot} available`);
        await api.call(
          'RestoreDBInstanceFromDBSnapshot',
          {
            DBInstanceIdentifier: names.instance,
            DBSnapshotIdentifier: names.snapshot,
            ...(rds.green?.instanceClass ? { DBInstanceClass: rds.green.instanceClass } : {}),
            ...(rds.green?.parameterGroup ? { DBParameterGroupName: rds.green.parameterGroup } : {}),
          },
          ctx.signal,
        );
        const restored = await waitFor(
          `the restored instance ${names.instance}`,
          () => describeInstance(api, names.instance, ctx.signal),
          instanceReady(),
          wait,
        );
        const endpoint = { host: restored.view!.host!, port: restored.view!.port! };
        await ctx.state.set(RDS_SNAPSHOT, { ...rec, endpoint });
        const target = targetOf({ ...rec, endpoint });
        // The snapshot was taken with the application's write grants revoked: the copy gets them back.
        const copy = await ctx.ports.openDatabase({ engine: 'postgres', url: target.url });
        await copy.transaction(async (tx) => {
          for (const r of roles) for (const sql of regrantSql(r.role, r.grants)) await tx.query(sql);
        });
        mark('restored', `${names.instance} restored from the snapshot at ${target.masked}`);
        const applied = options.migrate ? await migrateClone(ctx, target, loaded) : [];
        mark(
          'migrated',
          applied.length > 0 ? `applied ${applied.join(', ')} to ${names.instance}` : 'nothing pending',
        );
        const totalMs = Math.round(performance.now() - t0);
        reportFrozen(ctx, totalMs, phases, target.masked);
        return {
          summary: `writes frozen ${totalMs} ms while RDS snapshotted ${rds.instance} and restored ${names.instance}; the application must now use ${target.masked}`,
          freeze: { totalMs, phases },
          databaseUrl: target.masked,
          instance: names.instance,
          snapshot: names.snapshot,
          endedTransactions: ended,
          applied,
          reads: snap.reads + restored.reads,
          throttled: snap.throttled + restored.throttled,
          next: switchToClone(target.masked),
        };
      } finally {
        api.close();
      }
    },
    async rollback(ctx) {
      const rec = ctx.state.get(RDS_SNAPSHOT);
      const deleted = rec ? await deleteCopies(ctx, rec) : [];
      const unfrozen = await rollbackFreeze(ctx);
      return {
        summary: `${deleted.length > 0 ? `deleted ${deleted.join(' and ')}; ` : ''}${String(unfrozen.summary)}`,
      };
    },
  };

  async function deleteCopies(ctx: StepContext, rec: SnapshotRecord): Promise<string[]> {
    const api = await openRds(rds);
    const wait = { pollMs: rds.pollInterval, timeoutMs: rds.waitTimeout, signal: ctx.signal };
    const done: string[] = [];
    try {
      if (await describeInstance(api, rec.instance, ctx.signal)) {
        await api.call(
          'DeleteDBInstance',
          { DBInstanceIdentifier: rec.instance, SkipFinalSnapshot: true },
          ctx.signal,
        );
        await waitFor(
          `the deletion of ${rec.instance}`,
          () => describeInstance(api, rec.instance, ctx.signal),
          (i) => ({ why: i ? `the instance is ${i.status}` : '' }),
          wait,
        );
        done.push(`the instance ${rec.instance}`);
      }
      if (await describeSnapshot(api, rec.snapshot, ctx.signal)) {
        await api.call('DeleteDBSnapshot', { DBSnapshotIdentifier: rec.snapshot }, ctx.signal);
        done.push(`the snapshot ${rec.snapshot}`);
      }
    } finally {
      api.close();
    }
    return done;
  }

  const analyze: Step = {
    name: 'clone:analyze',
    defaultEstimateMs: 10_000,
    defaultRollbackMs: 0,
    async run(ctx) {
      const rec = ctx.state.get(RDS_SNAPSHOT);
      if (!rec?.endpoint)
        throw new MaintError('CLONE_MISSING', ExitCode.rolledBack, 'no instance was restored');
      const db = await ctx.ports.openDatabase({ engine: 'postgres', url: targetOf(rec).url });
      const report = await db.analyze({ mode: 'full', vacuum: false, signal: ctx.signal });
      return { summary: `analyzed ${report.tables.length} tables of ${rec.instance}`, tables: report.tables };
    },
    async rollback() {
      return { summary: 'nothing to undo' };
    },
  };
  return [cutover, analyze];
}
