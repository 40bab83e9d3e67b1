/**
 * The Amazon RDS settings of a plan: `strategy.clone.rds` (methods `rds-blue-green` and
 * `rds-snapshot`) and the fields the `rds-upgrade` operation shares with it (region, endpoint,
 * polling). Credentials never come from the plan: the AWS SDK's standard chain provides them.
 */
import { z } from 'zod';
import { durationMs, rule } from './schema-common.js';
import { rdsSwitchoverTimeoutInRange } from './schema-rules.js';

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;
const identifier = (what: string) =>
  z
    .string()
    .regex(IDENTIFIER, 'an RDS identifier: a letter, then letters, digits and hyphens (at most 63)')
    .meta({ description: what });

/** What every RDS call of a plan shares: where the API is and how maint waits on it. */
export const rdsAccess = {
  region: z.string().min(1).optional().meta({ description: 'AWS region (default: the standard chain).' }),
  endpoint: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://localhost:4566' })
    .optional()
    .meta({ description: 'RDS endpoint override (LocalStack, tests).' }),
  pollInterval: durationMs.prefault('10s').meta({
    description: 'Pause between two reads of RDS while waiting (API rate limits).',
  }),
  waitTimeout: durationMs.prefault('2h').meta({
    description:
      'The longest maint waits for RDS to finish one change (a deployment, a snapshot, an instance becoming available).',
  }),
};

export const CloneRdsSchema = z
  .strictObject({
    instance: identifier('The DB instance identifier of the live database (blue; the snapshot source).'),
    ...rdsAccess,
    green: z
      .strictObject({
        instanceClass: z.string().min(1).optional().meta({ description: 'e.g. db.r6g.large' }),
        parameterGroup: z.string().min(1).optional().meta({ description: 'DB parameter group name.' }),
        engineVersion: z
          .string()
          .min(1)
          .optional()
          .meta({ description: 'e.g. 16.4 (a major upgrade on green).' }),
      })
      .optional()
      .meta({
        description:
          'rds-blue-green: what changes on the green instance (default: as blue); rds-snapshot: instanceClass and parameterGroup of the restored instance.',
      }),
    switchoverTimeout: durationMs.prefault('5m').meta({
      description:
        'rds-blue-green: SwitchoverTimeout sent to RDS (30s to 1h); past it RDS rolls the switchover back and blue keeps serving.',
    }),
    deleteOld: z.boolean().default(false).meta({
      description:
        'rds-blue-green: delete the old (blue, renamed -old1) instance after the switchover, without a final snapshot. Default: kept.',
    }),
    restoreInstance: identifier(
      'rds-snapshot: the identifier of the restored instance (default: <instance>-maint-<run id>).',
    ).optional(),
    estimate: durationMs.optional().meta({
      description:
        'rds-snapshot: how long snapshot + restore take (writes stay frozen that long); default 10m. Refused when longer than freeze.maxDuration.',
    }),
  })
  .check(rule(rdsSwitchoverTimeoutInRange))
  .meta({
    description: 'Amazon RDS: the instance and how maint drives it (methods rds-blue-green, rds-snapshot).',
  });

export type CloneRdsConfig = z.output<typeof CloneRdsSchema>;
