/**
 * The plan schema: the single source of truth. The TypeScript types (`Plan`), the published
 * JSON Schema (`maint schema`, plan.schema.json) and validation all come from here.
 */
import { z } from 'zod';
import { formatDuration } from './duration.js';
import { durationMs, expectValue } from './schema-common.js';
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

/**
 * Intl knows the same zone database luxon reads; asking it directly keeps luxon (a window-math
 * dependency) off the path of commands that only validate plans.
 */
function isIanaZone(zone: string): boolean {
  // The list of canonical zones costs ~2 ms; the first DateTimeFormat ~15 ms of ICU set-up, which
  // `migrate` and `validate` need for nothing else. Aliases (US/Eastern) and other spellings the
  // runtime accepts are not in the list: they take the DateTimeFormat path, as before.
  if (Intl.supportedValuesOf?.('timeZone').includes(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone }).format(0);
    return true;
  } catch {
    return false;
  }
}

export const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type DayName = (typeof DAY_NAMES)[number];

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
      .refine((days) => new Set(days).size === days.length, {
        message: 'a day is listed more than once; list each day once',
      })
      .refine((days) => !days.includes('daily') || days.length === 1, {
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
  .superRefine((w, ctx) => {
    // Overlapping windows would make "the current window" ambiguous; refuse them.
    const gapMs = minimalGapMs(w.days);
    if (w.duration > gapMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['duration'],
        message: `a ${hours(w.duration)} window is longer than the ${hours(gapMs)} between two window starts, so windows would overlap; shorten the duration or start on fewer days`,
      });
    }
  });

/** `30h` reads better than `1d6h` when comparing against a gap of whole days. */
function hours(ms: number): string {
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h}h` : formatDuration(ms);
}

/** Smallest gap between two consecutive start days, in ms (ignoring DST). */
function minimalGapMs(days: readonly string[]): number {
  if (days.includes('daily')) return 86_400_000;
  // Duplicates are reported on their own; they must not look like a zero-hour gap.
  const idx = [...new Set(days.map((d) => DAY_NAMES.indexOf(d as DayName)))].sort((a, b) => a - b);
  if (idx.length <= 1) return 7 * 86_400_000;
  let gap = 7;
  for (let i = 0; i < idx.length; i++) {
    const next = i + 1 < idx.length ? idx[i + 1]! : idx[0]! + 7;
    gap = Math.min(gap, next - idx[i]!);
  }
  return gap * 86_400_000;
}

export const ENGINES = ['postgres', 'mysql', 'pglite'] as const;

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
/** Which methods suit a clone URL's engine (rds-* work for both). */
const METHODS_BY_SCHEME: Record<'postgres' | 'mysql', readonly CloneMethod[]> = {
  postgres: ['logical', 'dump', 'template', 'rds-snapshot', 'rds-blue-green'],
  mysql: ['dump', 'replica', 'rds-snapshot', 'rds-blue-green'],
};

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
  .superRefine((c, ctx) => {
    const scheme = /^(postgres|postgresql|mysql|mariadb):\/\//.exec(c.clone.url ?? '')?.[1];
    const engine = scheme === undefined ? undefined : scheme.startsWith('postgres') ? 'postgres' : 'mysql';
    if (engine && !METHODS_BY_SCHEME[engine].includes(c.clone.method))
      ctx.addIssue({
        code: 'custom',
        path: ['clone', 'method'],
        message: `method ${c.clone.method} does not clone a ${engine === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'} database; use one of ${METHODS_BY_SCHEME[engine].join(', ')}`,
      });
    const rdsMethod = c.clone.method.startsWith('rds-');
    if (rdsMethod && !c.clone.rds)
      ctx.addIssue({
        code: 'custom',
        path: ['clone', 'method'],
        message: `method ${c.clone.method} needs clone.rds.instance: the DB instance identifier of the live database`,
      });
    if (!rdsMethod && c.clone.rds)
      ctx.addIssue({
        code: 'custom',
        path: ['clone', 'rds'],
        message: `clone.rds is for the rds-blue-green and rds-snapshot methods, not ${c.clone.method}`,
      });
    if (rdsMethod && c.clone.url)
      ctx.addIssue({
        code: 'custom',
        path: ['clone', 'url'],
        message:
          c.clone.method === 'rds-blue-green'
            ? 'rds-blue-green keeps the database URL: after the switchover the same endpoint names the migrated (green) instance; remove clone.url'
            : 'rds-snapshot restores to a new instance whose endpoint RDS names; remove clone.url',
      });
    if (c.freeze.grace >= c.freeze.maxDuration)
      ctx.addIssue({
        code: 'custom',
        path: ['freeze', 'grace'],
        message: `grace (${formatDuration(c.freeze.grace)}) must be shorter than maxDuration (${formatDuration(c.freeze.maxDuration)})`,
      });
  });

export const StrategySchema = z
  .union([z.literal('in-place'), z.strictObject({ kind: z.literal('in-place') }), CloneFreezeSchema])
  .default('in-place')
  .meta({ description: '`in-place` (default) or `{ kind: clone-freeze, clone, freeze }`.' });
export const STRATEGY_KINDS = ['in-place', 'clone-freeze'] as const;

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
  .superRefine((plan, ctx) => {
    if (plan.fleet && !plan.release) {
      ctx.addIssue({
        code: 'custom',
        path: ['fleet'],
        message:
          'a fleet roll needs the release it rolls out: add `release: ${RELEASE}` (an image tag or git sha)',
      });
    }
  })
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
