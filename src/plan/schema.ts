/**
 * The plan schema: the single source of truth. The TypeScript types (`Plan`), the published
 * JSON Schema (`maint schema`, plan.schema.json) and validation all come from here.
 */
import { z } from 'zod';
import { durationMs, expectValue, rule } from './schema-common.js';
import {
  cloneFreezeRules,
  dailyStandsAlone,
  DAY_NAMES,
  daysListedOnce,
  ENGINES,
  isIanaZone,
  planRules,
  windowsDoNotOverlap,
} from './schema-rules.js';
import { OperationsSchema } from './schema-operations.js';
import { NotifySchema } from './schema-notify.js';
import { FleetSchema, ReleaseSchema } from './schema-fleet.js';
import { CloneRdsSchema } from './schema-rds.js';

export { FleetSchema, FLEET_PROVIDERS, FLEET_MODES } from './schema-fleet.js';
export type {
  FleetConfig,
  HaproxyFleetConfig,
  EcsFleetConfig,
  CommandFleetConfig,
  ProbeConfig,
} from './schema-fleet.js';

export { DAY_NAMES, type DayName } from './schema-rules.js';

const day = z.enum([...DAY_NAMES, 'daily']);

export const WindowSchema = z
  .strictObject({
    timezone: z
      .string()
      .refine(isIanaZone, {
        message: 'not an IANA time zone; use a name like Europe/Paris, America/New_York or UTC',
      })
      .meta({ description: 'IANA time zone the window is defined in.', examples: ['Europe/Paris', 'UTC'] }),
    days: z
      .array(day)
      .min(1)
      .refine(daysListedOnce, {
        message: 'a day is listed more than once; list each day once',
      })
      .refine(dailyStandsAlone, {
        message: '`daily` stands alone; list either [daily] or the days',
      })
      .meta({ description: 'Day(s) the window starts on, or [daily].' }),
    start: z
      .string()
      .regex(
        /^([01]\d|2[0-3]):[0-5]\d$/,
        'must be a 24-hour time HH:MM between 00:00 and 23:59 (quote it: "21:00")',
      )
      .meta({ description: 'Local start time, HH:MM.' }),
    duration: durationMs.meta({
      description: 'Length in elapsed time; may cross midnight and the week end.',
    }),
    notice: durationMs.prefault('24h').meta({ description: 'Announce this long before the window starts.' }),
  })
  .check(rule(windowsDoNotOverlap));

export { ENGINES };

export const DatabaseSchema = z.strictObject({
  engine: z
    .enum(ENGINES)
    .meta({ description: 'postgres | mysql (MySQL and MariaDB) | pglite (embedded, for demos).' }),
  url: z.string().min(1).meta({
    description:
      'Connection URL (its password is secret). For pglite: a folder (relative to the plan) or memory://.',
    'x-secret': 'credentials',
  }),
  lockUrl: z.string().min(1).optional().meta({
    description: 'Direct (not pooled) URL for the session lock, when `url` goes through PgBouncer/RDS Proxy.',
    'x-secret': 'credentials',
  }),
});

export const MigrationsSchema = z.strictObject({
  dir: z
    .string()
    .default('./migrations')
    .meta({ description: 'Folder of NNN_name.sql (+ .down.sql) and .js/.ts files.' }),
  lockTimeout: durationMs.prefault('400ms').meta({
    description:
      'Longest any DDL statement may wait for a table lock (so the longest a live query queues behind it). MySQL/MariaDB round up to whole seconds.',
  }),
  retries: z.number().int().min(0).max(100).default(30).meta({
    description:
      'Retries of a DDL that timed out, with jittered backoff from 100 ms doubling to at most 1 s apart (the default rides out a blocker of about 30 s).',
  }),
  table: z
    .string()
    .regex(
      /^[a-z_][a-z0-9_]{0,62}$/,
      'use a plain SQL table name: lowercase letters, digits and _ (at most 63), e.g. maint_migrations',
    )
    .default('maint_migrations')
    .meta({ description: 'Table recording applied migrations.' }),
  requireWindow: z.boolean().default(false).meta({
    description:
      '`maint migrate` applies pending migrations only while the window is open (as `--window`); with nothing pending it still exits 0.',
  }),
});

export const CLONE_METHODS = [
  'logical',
  'dump',
  'template',
  'replica',
  'rds-snapshot',
  'rds-blue-green',
] as const;
export type CloneMethod = (typeof CLONE_METHODS)[number];
export const CloneFreezeSchema = z
  .strictObject({
    kind: z.literal('clone-freeze'),
    clone: z.strictObject({
      method: z.enum(CLONE_METHODS).default('logical').meta({
        description:
          'How the clone is made. PostgreSQL: logical (default), dump, template; MySQL/MariaDB: dump, replica; RDS: rds-snapshot, rds-blue-green.',
      }),
      url: z.string().min(1).optional().meta({
        description:
          'URL of the clone (its password is secret); default: a database named <live>_clone on the same server.',
        'x-secret': 'credentials',
      }),
      rds: CloneRdsSchema.optional(),
    }),
    freeze: z
      .strictObject({
        method: z.enum(['read-only']).default('read-only'),
        grace: durationMs.prefault('2s').meta({
          description: 'Transactions begun before the freeze may finish within this, then they are ended.',
        }),
        maxDuration: durationMs
          .prefault('30s')
          .meta({ description: 'Past it the freeze is undone: unfreeze, drop the clone, exit 5.' }),
      })
      .prefault({}),
  })
  .check(rule(cloneFreezeRules));

export const StrategySchema = z
  .union([z.literal('in-place'), z.strictObject({ kind: z.literal('in-place') }), CloneFreezeSchema])
  .default('in-place')
  .meta({ description: '`in-place` (default) or `{ kind: clone-freeze, clone, freeze }`.' });
export { STRATEGY_KINDS } from './schema-rules.js';

export const AnalyzeSchema = z.union([
  z.boolean(),
  z.strictObject({
    mode: z.enum(['full', 'stages']).default('full').meta({
      description: '`stages`: coarse statistics first, then finer ones (like vacuumdb --analyze-in-stages).',
    }),
    tables: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({ description: 'Only these tables (default: all).' }),
    vacuum: z
      .boolean()
      .default(true)
      .meta({ description: 'PostgreSQL: VACUUM ANALYZE rather than ANALYZE.' }),
  }),
]);

export const PostSchema = z.strictObject({
  analyze: AnalyzeSchema.default(false).meta({ description: 'Refresh planner statistics after migrating.' }),
});

export const CheckSchema = z.strictObject({
  name: z.string().min(1),
  sql: z
    .string()
    .min(1)
    .meta({ description: 'A query returning one value (first column of the first row).' }),
  expect: expectValue,
});

export const PlanSchema = z
  .strictObject({
    version: z.literal(1).meta({ description: 'Plan format version.' }),
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]{0,62}$/,
        'use lowercase letters, digits and dashes (at most 63), e.g. orders-v2',
      )
      .meta({ description: 'Keys the lock and the journal.' }),
    window: WindowSchema,
    estimate: durationMs.optional().meta({ description: 'Expected duration; else learned from past runs.' }),
    database: DatabaseSchema,
    migrations: MigrationsSchema.prefault({}),
    operations: OperationsSchema.default([]),
    strategy: StrategySchema,
    release: ReleaseSchema.optional(),
    fleet: FleetSchema.optional(),
    post: PostSchema.prefault({}),
    checks: z.array(CheckSchema).default([]),
    notify: NotifySchema.prefault({}),
  })
  .check(rule(planRules))
  .meta({
    title: 'maint plan',
    description: 'A maintenance plan for maint. See docs/plan.md.',
  });

export type Plan = z.output<typeof PlanSchema>;
export type PlanInput = z.input<typeof PlanSchema>;
export type WindowSpec = z.output<typeof WindowSchema>;
export type DatabaseConfig = z.output<typeof DatabaseSchema>;
export type MigrationsConfig = z.output<typeof MigrationsSchema>;
export type CheckConfig = z.output<typeof CheckSchema>;
export type AnalyzeConfig = z.output<typeof AnalyzeSchema>;
export type CloneFreezeConfig = z.output<typeof CloneFreezeSchema>;
export type { OperationConfig } from './schema-operations.js';

/** The JSON Schema (draft-07) editors and CI read. */
export function planJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PlanSchema, { target: 'draft-07', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}
