/**
 * `operations:` in a plan: maintenance steps beyond migrations (a setting changed, a password
 * re-hashed, a major-version upgrade), each an SQL text or a shell command with an optional
 * rollback and verify, or an RDS engine upgrade (`rds-upgrade`, no rollback). The engine runs them under the window guard and the journal like any step.
 */
import { z } from 'zod';
import { durationMs, expectValue, rule } from './schema-common.js';
import { rdsAccess } from './schema-rds.js';
import { operationNamesUnique } from './schema-rules.js';

export const OPERATION_WHEN = ['before-migrations', 'after-migrations'] as const;

const name = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'use lowercase letters, digits, - and _ (at most 63), starting with a letter or digit, e.g. scram-auth',
  )
  .meta({ description: 'Unique among the operations; the step is `operation:<name>`.' });

const common = {
  run: z.string().min(1),
  rollback: z.string().min(1).optional(),
  verify: z
    .strictObject({
      sql: z
        .string()
        .min(1)
        .meta({ description: 'A query returning one value (first column of the first row).' }),
      expect: expectValue.meta({
        description:
          '`unchanged` (same as before the operation), an exact value, or a comparison like ">= 1".',
      }),
    })
    .optional()
    .meta({ description: 'Checked right after `run`; a mismatch fails the step.' }),
  estimate: durationMs.optional().meta({ description: 'Expected duration; else learned from past runs.' }),
  when: z
    .enum(OPERATION_WHEN)
    .default('after-migrations')
    .meta({ description: 'Run after `baseline` and before `migrate`, or after `migrate` (default).' }),
};

export const SqlOperationSchema = z.strictObject({
  name,
  kind: z.literal('sql'),
  ...common,
  run: common.run.meta({ description: 'SQL statements, run on the plan database.' }),
  rollback: common.rollback.meta({
    description: 'SQL undoing `run`. Without it the operation is a point of no return.',
  }),
  transaction: z.boolean().default(true).meta({
    description:
      'Run the whole text in one transaction (default); false runs it statement by statement (ALTER SYSTEM, VACUUM).',
  }),
});

export const CommandOperationSchema = z.strictObject({
  name,
  kind: z.literal('command'),
  ...common,
  run: common.run.meta({
    description:
      'Shell command (/bin/sh -c), run in the plan folder with MAINT_PLAN, MAINT_RUN_ID, MAINT_DATABASE_URL, MAINT_RELEASE.',
  }),
  rollback: common.rollback.meta({
    description: 'Shell command undoing `run`. Without it the operation is a point of no return.',
  }),
  timeout: durationMs
    .prefault('10m')
    .meta({ description: 'The command (and every process it started) is killed after this long.' }),
  env: z
    .record(z.string(), z.string().meta({ 'x-secret': 'value' }))
    .optional()
    .meta({ description: 'Extra environment variables; their values are secret (masked everywhere).' }),
});

export const RdsUpgradeOperationSchema = z.strictObject({
  name,
  kind: z.literal('rds-upgrade'),
  instance: z
    .string()
    .regex(
      /^[A-Za-z][A-Za-z0-9-]{0,62}$/,
      'an RDS identifier: a letter, then letters, digits and hyphens (at most 63)',
    )
    .meta({ description: 'The DB instance identifier to upgrade (the plan database, usually).' }),
  engineVersion: z.string().min(1).meta({ description: 'The target engine version, e.g. 16.4.' }),
  allowMajorVersionUpgrade: z.boolean().default(false).meta({
    description: 'Required by RDS for a major version (15 → 16). The upgrade is a point of no return.',
  }),
  ...rdsAccess,
  estimate: common.estimate,
  when: common.when,
});

export const OperationSchema = z.discriminatedUnion('kind', [
  SqlOperationSchema,
  CommandOperationSchema,
  RdsUpgradeOperationSchema,
]);

export const OperationsSchema = z
  .array(OperationSchema)
  .check(rule(operationNamesUnique))
  .meta({ description: 'Maintenance steps beyond migrations (SQL or shell commands), in order.' });

export type OperationConfig = z.output<typeof OperationSchema>;
export type SqlOperationConfig = z.output<typeof SqlOperationSchema>;
export type CommandOperationConfig = z.output<typeof CommandOperationSchema>;
export type RdsUpgradeOperationConfig = z.output<typeof RdsUpgradeOperationSchema>;
