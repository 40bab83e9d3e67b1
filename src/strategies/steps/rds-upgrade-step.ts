/**
 * The `rds-upgrade` operation as a step (`operation:<name>`): ModifyDBInstance with the target
 * engine version (ApplyImmediately, AllowMajorVersionUpgrade as the plan says), a wait until the
 * instance is `available` on that version for several reads in a row (describes lag, and RDS
 * shows `available` between the upgrade and its reboot), then ANALYZE of the plan database (a
 * major upgrade does not carry the planner statistics). RDS cannot downgrade: the step has no
 * rollback, a point of no return. Refused by RDS before it changed anything: exit 5; failed
 * after RDS began the upgrade (the instance `incompatible-parameters`, say): exit 6, what to do.
 */
import type { Step } from '../../core/engine/step.js';
import {
  describeInstance,
  instanceReady,
  openRds,
  RdsFailedError,
  RdsTimeoutError,
  awsName,
  waitFor,
} from '../../clone/rds.js';
import { OperatorActionError, RolledBackError } from '../../errors.js';
import { operationChecksum, operationStepName } from '../../operations/pending.js';
import type { RdsUpgradeOperationConfig } from '../../plan/schema-operations.js';

const DEFAULT_ESTIMATE_MS = 30 * 60_000;

export function rdsUpgradeStep(op: RdsUpgradeOperationConfig): Step {
  const checksum = operationChecksum(op);
  const estimate = op.estimate ?? DEFAULT_ESTIMATE_MS;
  return {
    name: operationStepName(op),
    defaultEstimateMs: estimate,
    defaultRollbackMs: 0,
    async run(ctx) {
      const base = { kind: op.kind, checksum, instance: op.instance, engineVersion: op.engineVersion };
      const api = await openRds(op);
      try {
        const before = await describeInstance(api, op.instance, ctx.signal);
        if (!before)
          throw new RolledBackError(
            'RDS_INSTANCE_MISSING',
            `operation "${op.name}": RDS has no DB instance ${op.instance} in ${api.region}`,
            { hint: 'Check `instance:` and the region of the rds-upgrade operation; nothing was changed.' },
          );
        const from = before.engineVersion;
        if (from !== op.engineVersion) {
          try {
            await api.call(
              'ModifyDBInstance',
              {
                DBInstanceIdentifier: op.instance,
                EngineVersion: op.engineVersion,
                AllowMajorVersionUpgrade: op.allowMajorVersionUpgrade,
                ApplyImmediately: true,
              },
              ctx.signal,
            );
          } catch (error) {
            throw new RolledBackError(
              'RDS_UPGRADE_REFUSED',
              `operation "${op.name}": RDS refused to upgrade ${op.instance} from ${from} to ${op.engineVersion}: ${awsName(error) ?? 'error'}: ${(error as Error).message}`,
              {
                cause: error,
                hint: 'Nothing was changed. A major version needs allowMajorVersionUpgrade: true; the version must be one RDS offers as an upgrade target.',
              },
            );
          }
          ctx.progress(`RDS is upgrading ${op.instance} from ${from} to ${op.engineVersion}`);
        }
        let reads;
        try {
          reads = await waitFor(
            `the upgrade of ${op.instance} to ${op.engineVersion}`,
            () => describeInstance(api, op.instance, ctx.signal),
            instanceReady(op.engineVersion),
            { pollMs: op.pollInterval, timeoutMs: op.waitTimeout, signal: ctx.signal },
          );
        } catch (error) {
          if (error instanceof RdsFailedError || error instanceof RdsTimeoutError)
            throw new OperatorActionError(
              'RDS_UPGRADE_FAILED',
              `operation "${op.name}" failed: ${error.message}; RDS began the upgrade, which cannot be undone or rolled back by maint`,
              {
                cause: error,
                hint: `Look at the instance ${op.instance} and its events in the RDS console (a parameter group not valid for ${op.engineVersion} leaves it incompatible-parameters): fix it there, then record the outcome with \`maint resolve\`.`,
                details: { ...base, from },
              },
            );
          throw error;
        }
        // The upgrade restarted the server: the pool reconnects; a major upgrade lost the statistics.
        const report = await ctx.db.analyze({ mode: 'full', vacuum: false, signal: ctx.signal });
        return {
          summary:
            from === op.engineVersion
              ? `${op.instance} already runs ${op.engineVersion}; analyzed ${report.tables.length} tables`
              : `${op.instance} upgraded from ${from} to ${op.engineVersion} (read available ${reads.reads} times, ${reads.throttled} throttled); analyzed ${report.tables.length} tables`,
          ...base,
          from,
          reads: reads.reads,
          throttled: reads.throttled,
          analyzed: report.tables.length,
          pointOfNoReturn: true,
        };
      } finally {
        api.close();
      }
    },
  };
}
