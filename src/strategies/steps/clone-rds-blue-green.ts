/**
 * clone-freeze `method: rds-blue-green` (PostgreSQL on Amazon RDS): RDS makes and keeps the copy.
 * lock → `clone:prepare` (CreateBlueGreenDeployment from the live instance; AVAILABLE read several
 * times in a row; the green instance's endpoint journaled) → `clone:migrate` (the pending
 * migrations applied to green, as the plan's role) → `clone:analyze` (green) → `clone:cutover`
 * (SwitchoverBlueGreenDeployment with an explicit SwitchoverTimeout: the freeze, measured from
 * the call until SWITCHOVER_COMPLETED; then ANALYZE again if the switch lost statistics, and the
 * deployment deleted, the old instance kept unless `deleteOld`). RDS renames: after the
 * switchover the plan's endpoint names the migrated instance. A switchover RDS fails or rolls
 * back (its timeout) leaves blue serving: maint verifies that and exits 5 after deleting green
 * (`clone:prepare`'s rollback: DeleteBlueGreenDeployment with DeleteTarget). Once switched, there
 * is no way back (exit 6 if anything after it fails).
 */
import { stateKey } from '../../core/engine/state.js';
import type { Step, StepContext } from '../../core/engine/step.js';
import type { Phase } from '../../clone/pg-logical.js';
import { databaseOf, maskUrl, withDatabase } from '../../clone/pg-tools.js';
import {
  RdsFailedError,
  RdsTimeoutError,
  describeDeployment,
  describeInstance,
  instanceReady,
  openRds,
  waitFor,
  withEndpoint,
  type DeploymentView,
  type Judge,
} from '../../clone/rds.js';
import type { CloneTarget } from '../../clone/target.js';
import { OperatorActionError, RolledBackError } from '../../errors.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { CloneFreezeConfig } from '../../plan/schema.js';
import type { CloneRdsConfig } from '../../plan/schema-rds.js';
import { reportFrozen } from './freeze-report.js';
import { migrateClone } from './clone-migrate-step.js';

export interface BlueGreenRecord {
  name: string;
  /** The live (blue) instance's ARN. */
  source: string;
  deployment: string | null;
  green: { id: string; host: string; port: number } | null;
  switchover: 'requested' | 'completed' | 'failed' | null;
}

export const RDS_BLUE_GREEN = stateKey<BlueGreenRecord>('clone.rds-blue-green');

/** RDS's names: 1–60 letters, digits and hyphens, starting with a letter. */
export function deploymentName(runId: string): string {
  return `maint-${runId.replace(/[^A-Za-z0-9]+/g, '-')}`.slice(0, 60).replace(/-+$/, '');
}

const deploymentReady: Judge<DeploymentView | null> = (d) => {
  if (!d) return { why: 'not found (yet)' };
  if (d.status === 'AVAILABLE') return { why: '' };
  if (d.status === 'INVALID_CONFIGURATION' || d.status === 'PROVISIONING_FAILED')
    return {
      why: `the deployment is ${d.status}${d.statusDetails ? `: ${d.statusDetails}` : ''}`,
      failed: true,
    };
  return { why: `the deployment is ${d.status}` };
};

/** The green instance as a clone target: the plan's URL (role, password, database) at green's endpoint. */
export function greenTarget(planUrl: string, green: { host: string; port: number }): CloneTarget {
  const url = withEndpoint(planUrl, green.host, green.port);
  return {
    engine: 'postgres',
    url,
    adminUrl: withDatabase(url, 'postgres'),
    database: databaseOf(url),
    masked: maskUrl(url),
  };
}

function record(ctx: StepContext): BlueGreenRecord {
  const r = ctx.state.get(RDS_BLUE_GREEN);
  if (!r?.deployment || !r.green)
    throw new RolledBackError('CLONE_MISSING', 'no blue/green deployment was prepared');
  return r;
}

export function rdsBlueGreenSteps(options: {
  config: CloneFreezeConfig;
  rds: CloneRdsConfig;
  loaded: LoadedPlan;
  migrate: boolean;
}): Step[] {
  const { rds, loaded } = options;
  const planUrl = loaded.plan.database.url;
  const wait = (ctx: StepContext, timeoutMs = rds.waitTimeout) => ({
    pollMs: rds.pollInterval,
    timeoutMs,
    signal: ctx.signal,
  });

  const prepare: Step = {
    name: 'clone:prepare',
    defaultEstimateMs: 30 * 60_000,
    defaultRollbackMs: 10 * 60_000,
    async run(ctx) {
      const api = await openRds(rds);
      try {
        const earlier = ctx.state.get(RDS_BLUE_GREEN);
        if (earlier?.deployment) {
          ctx.progress(`an earlier attempt left the deployment ${earlier.deployment}: deleting it first`);
          await deleteDeployment(ctx, earlier.deployment, true);
        }
        const blue = await describeInstance(api, rds.instance, ctx.signal);
        if (!blue)
          throw new RolledBackError('RDS_INSTANCE_MISSING', `RDS has no DB instance ${rds.instance}`);
        const name = deploymentName(ctx.runId);
        const base: BlueGreenRecord = {
          name,
          source: blue.arn,
          deployment: null,
          green: null,
          switchover: null,
        };
        await ctx.state.set(RDS_BLUE_GREEN, base);
        const out = await api.call<{ BlueGreenDeployment?: { BlueGreenDeploymentIdentifier?: string } }>(
          'CreateBlueGreenDeployment',
          {
            BlueGreenDeploymentName: name,
            Source: blue.arn,
            ...(rds.green?.engineVersion ? { TargetEngineVersion: rds.green.engineVersion } : {}),
            ...(rds.green?.parameterGroup ? { TargetDBParameterGroupName: rds.green.parameterGroup } : {}),
            ...(rds.green?.instanceClass ? { TargetDBInstanceClass: rds.green.instanceClass } : {}),
          },
          ctx.signal,
        );
        const id = out.BlueGreenDeployment?.BlueGreenDeploymentIdentifier;
        if (!id) throw new RolledBackError('RDS_FAILED', 'CreateBlueGreenDeployment returned no identifier');
        await ctx.state.set(RDS_BLUE_GREEN, { ...base, deployment: id });
        ctx.progress(`blue/green deployment ${id} created from ${rds.instance}: waiting for AVAILABLE`);
        const ready = await waitFor(
          `the blue/green deployment ${id}`,
          () => describeDeployment(api, id, ctx.signal),
          deploymentReady,
          wait(ctx),
        );
        const targetArn = ready.view!.target;
        if (!targetArn)
          throw new RolledBackError('RDS_FAILED', `the deployment ${id} names no green instance`);
        const green = await waitFor(
          `the green instance of ${id}`,
          () => describeInstance(api, targetArn, ctx.signal),
          instanceReady(rds.green?.engineVersion),
          wait(ctx),
        );
        const g = green.view!;
        const greenRecord = { id: g.id, host: g.host!, port: g.port! };
        await ctx.state.set(RDS_BLUE_GREEN, { ...base, deployment: id, green: greenRecord });
        const target = greenTarget(planUrl, greenRecord);
        return {
          summary: `blue/green deployment ${id} AVAILABLE: green ${g.id} (${g.engine} ${g.engineVersion}) at ${target.masked}`,
          deployment: id,
          green: { instance: g.id, url: target.masked, engineVersion: g.engineVersion },
          reads: ready.reads + green.reads,
          throttled: ready.throttled + green.throttled,
        };
      } finally {
        api.close();
      }
    },
    async rollback(ctx) {
      const r = ctx.state.get(RDS_BLUE_GREEN);
      if (!r?.deployment) return { summary: 'no blue/green deployment was created' };
      if (r.switchover === 'completed')
        throw new OperatorActionError(
          'CLONE_SHIFTED',
          `the switchover of ${r.deployment} completed: ${rds.instance} is the migrated instance now, and the old one cannot take its place back`,
        );
      await deleteDeployment(ctx, r.deployment, true);
      return { summary: `deleted the blue/green deployment ${r.deployment} and its green instance` };
    },
  };

  /** Delete the deployment (with its green instance when `target`) and wait until RDS no longer shows it. */
  async function deleteDeployment(ctx: StepContext, id: string, target: boolean): Promise<void> {
    const api = await openRds(rds);
    try {
      const green = target ? ctx.state.get(RDS_BLUE_GREEN)?.green : null;
      try {
        await api.call(
          'DeleteBlueGreenDeployment',
          { BlueGreenDeploymentIdentifier: id, ...(target ? { DeleteTarget: true } : {}) },
          ctx.signal,
        );
      } catch (error) {
        if (!(await describeDeployment(api, id, ctx.signal).catch(() => 'unknown'))) return;
        throw error;
      }
      await waitFor(
        `the deletion of the deployment ${id}`,
        () => describeDeployment(api, id, ctx.signal),
        (d) => ({ why: d ? `the deployment is ${d.status}` : '' }),
        wait(ctx),
      );
      if (green)
        await waitFor(
          `the deletion of the green instance ${green.id}`,
          () => describeInstance(api, green.id, ctx.signal),
          (i) => ({ why: i ? `the green instance is ${i.status}` : '' }),
          wait(ctx),
        );
    } finally {
      api.close();
    }
  }

  const migrate: Step = {
    name: 'clone:migrate',
    defaultEstimateMs: 10_000,
    defaultRollbackMs: 0,
    async run(ctx) {
      const names = await migrateClone(ctx, greenTarget(planUrl, record(ctx).green!), loaded);
      return {
        summary: names.length === 0 ? 'nothing pending' : `applied ${names.join(', ')} to green`,
        applied: names,
      };
    },
    async rollback() {
      return { summary: 'nothing to revert: green is deleted' };
    },
  };

  const analyze: Step = {
    name: 'clone:analyze',
    defaultEstimateMs: 10_000,
    defaultRollbackMs: 0,
    async run(ctx) {
      const green = await ctx.ports.openDatabase({
        engine: 'postgres',
        url: greenTarget(planUrl, record(ctx).green!).url,
      });
      const report = await green.analyze({ mode: 'full', vacuum: false, signal: ctx.signal });
      return { summary: `analyzed ${report.tables.length} tables of green`, tables: report.tables };
    },
    async rollback() {
      return { summary: 'nothing to undo' };
    },
  };

  const timeoutS = Math.round(rds.switchoverTimeout / 1000);
  const cutover: Step = {
    name: 'clone:cutover',
    defaultEstimateMs: rds.switchoverTimeout,
    defaultRollbackMs: 60_000,
    async run(ctx) {
      const r = record(ctx);
      const id = r.deployment!;
      const masked = maskUrl(planUrl);
      if (r.switchover === 'requested' || r.switchover === 'completed')
        // A switchover is never requested twice: the earlier one may have completed.
        throw new OperatorActionError(
          'CLONE_SWITCHOVER_INTERRUPTED',
          `an earlier run requested the switchover of ${id} and was interrupted; it is never requested twice (green is deleted only if RDS still allows it, which means the switchover did not happen)`,
          {
            hint: `Look at the blue/green deployment ${id} in the RDS console: if it is SWITCHOVER_COMPLETED, delete it (not its target) and record that with \`maint resolve\`; otherwise delete it with its target, then resolve.`,
          },
        );
      const api = await openRds(rds);
      try {
        const phases: Phase[] = [];
        const t0 = performance.now();
        let last = t0;
        const mark = (name: string, line: string, at = performance.now()) => {
          phases.push({ name, ms: Math.round(at - last) });
          last = at;
          ctx.progress(`${line} (${Math.round(at - t0)} ms into the switchover)`);
        };
        await ctx.state.set(RDS_BLUE_GREEN, { ...r, switchover: 'requested' });
        await api.call(
          'SwitchoverBlueGreenDeployment',
          { BlueGreenDeploymentIdentifier: id, SwitchoverTimeout: timeoutS },
          ctx.signal,
        );
        mark('switchover requested', `SwitchoverBlueGreenDeployment accepted (timeout ${timeoutS} s)`);
        let completedAt: number | null = null;
        try {
          await waitFor(
            `the switchover of ${id}`,
            () => describeDeployment(api, id, ctx.signal),
            (d) => {
              if (!d) return { why: 'the deployment is not found' };
              if (d.status === 'SWITCHOVER_COMPLETED') return { why: '' };
              if (d.status === 'SWITCHOVER_FAILED' || d.status === 'INVALID_CONFIGURATION')
                return { why: `${d.status}${d.statusDetails ? `: ${d.statusDetails}` : ''}`, failed: true };
              return { why: `the deployment is ${d.status}` };
            },
            {
              ...wait(ctx, rds.switchoverTimeout + 120_000),
              // RDS does not show its inner steps (writes stopped, caught up, renamed): the first
              // SWITCHOVER_COMPLETED read ends the freeze, not the confirming reads after it.
              onRead: (d) => {
                if (d?.status === 'SWITCHOVER_COMPLETED') completedAt ??= performance.now();
              },
            },
          );
        } catch (error) {
          if (!(error instanceof RdsFailedError || error instanceof RdsTimeoutError)) throw error;
          await ctx.state.set(RDS_BLUE_GREEN, { ...r, switchover: 'failed' });
          await verifyBlueServes(ctx, api, r, error.message);
          throw new RolledBackError(
            'CLONE_SWITCHOVER_FAILED',
            `the switchover of ${id} did not complete (${error.message}); RDS left blue serving: ${rds.instance} is the same instance, available and writable (verified)`,
            {
              cause: error,
              hint: 'Green is deleted with the deployment. Look at the deployment events in the RDS console (replica lag, long transactions), then run again; a longer switchoverTimeout gives RDS more room.',
            },
          );
        }
        await ctx.state.set(RDS_BLUE_GREEN, { ...r, switchover: 'completed' });
        mark(
          'switched',
          `SWITCHOVER_COMPLETED: ${rds.instance} is the migrated instance`,
          completedAt ?? undefined,
        );
        const totalMs = Math.round(last - t0);
        reportFrozen(ctx, totalMs, phases, masked);
        // The same endpoint names the migrated instance now; the pool reconnects to it.
        const lost = await lostStatistics(ctx);
        const analyzed =
          lost > 0
            ? (await ctx.db.analyze({ mode: 'full', vacuum: false, signal: ctx.signal })).tables.length
            : 0;
        await deleteDeployment(ctx, id, false);
        const old = `${rds.instance}-old1`;
        if (rds.deleteOld) {
          await api.call(
            'DeleteDBInstance',
            { DBInstanceIdentifier: old, SkipFinalSnapshot: true },
            ctx.signal,
          );
        }
        return {
          summary: `switched over in ${totalMs} ms; ${rds.instance} (the same endpoint, ${masked}) is the migrated instance`,
          freeze: { totalMs, phases },
          databaseUrl: masked,
          sameEndpoint: true,
          deployment: { id, deleted: true },
          oldInstance: { id: old, deleted: rds.deleteOld },
          analyzedAfterSwitchover: analyzed,
          next: rds.deleteOld
            ? `The plan's database.url already names the migrated database (RDS renamed green to ${rds.instance}); nothing to repoint. The old instance ${old} is being deleted.`
            : `The plan's database.url already names the migrated database (RDS renamed green to ${rds.instance}); nothing to repoint. The old instance ${old} is kept (read-only until rebooted): delete it when you no longer need it.`,
        };
      } finally {
        api.close();
      }
    },
    async rollback(ctx) {
      const r = ctx.state.get(RDS_BLUE_GREEN);
      if (r?.switchover === 'completed')
        throw new OperatorActionError(
          'CLONE_SHIFTED',
          `the switchover completed: ${rds.instance} is the migrated instance and serves the application; RDS cannot switch back`,
          {
            hint: 'Finish by hand: delete the blue/green deployment (not its target) and check the instance; then record it with `maint resolve`.',
          },
        );
      return { summary: 'blue kept serving: nothing to undo here' };
    },
  };

  /** After a failed switchover: blue is still the live instance, available, and the database takes writes. */
  async function verifyBlueServes(
    ctx: StepContext,
    api: Awaited<ReturnType<typeof openRds>>,
    r: BlueGreenRecord,
    why: string,
  ): Promise<void> {
    const problems: string[] = [];
    const blue = await waitFor(
      `${rds.instance} after the failed switchover`,
      () => describeInstance(api, rds.instance, ctx.signal),
      instanceReady(),
      wait(ctx),
    ).catch((error: Error) => {
      problems.push(error.message);
      return null;
    });
    if (blue && blue.view!.arn !== r.source)
      problems.push(`${rds.instance} is another instance now (${blue.view!.arn}, was ${r.source})`);
    try {
      const [row] = await ctx.db.query<{ recovery: boolean; ro: string }>(
        `select pg_is_in_recovery() as recovery, current_setting('transaction_read_only') as ro`,
      );
      if (row?.recovery || row?.ro !== 'off') problems.push('the database behind it is read-only');
    } catch (error) {
      problems.push(`the database does not answer: ${(error as Error).message}`);
    }
    if (problems.length > 0)
      throw new OperatorActionError(
        'CLONE_SWITCHOVER_UNVERIFIED',
        `the switchover did not complete (${why}) and blue could not be verified serving: ${problems.join('; ')}`,
        { hint: `Check ${rds.instance} and the blue/green deployment in the RDS console now.` },
      );
  }

  const steps = [prepare];
  if (options.migrate) steps.push(migrate);
  steps.push(analyze, cutover);
  return steps;
}

/** User tables with rows but no planner statistics (a switch that lost them). */
async function lostStatistics(ctx: StepContext): Promise<number> {
  const [row] = await ctx.db.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_user_tables t
      where t.n_live_tup > 0 and not exists (select 1 from pg_stats s where s.schemaname = t.schemaname and s.tablename = t.relname)`,
  );
  return row?.n ?? 0;
}
