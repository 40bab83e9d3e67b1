/**
 * `maint lint`: lints the plan's pending migrations (or all of them) with table sizes read from
 * the database, or every migration offline. Also what `maint plan` and `maint gate` show.
 * Read-only: no lock, no journal writes.
 */
import path from 'node:path';
import type { Database, Dialect } from '../../db/database.js';
import { InputError } from '../../errors.js';
import { listMigrationFiles, type MigrationFile } from '../../migrations/files.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { ClassifiedMigration } from '../../lint/guard.js';
import type { LintReport } from '../../lint/lint.js';
import { sizeMap, tableSizesSql } from '../../lint/size-sql.js';
import type { Ports } from '../ports.js';
import { withSnapshot } from './snapshot.js';

/** 10 MiB: above it, locking or rewriting a table is an error (`--threshold`). */
export const DEFAULT_THRESHOLD_BYTES = 10 * 1024 * 1024;

export interface LintOptions {
  /** Lint every migration, applied or not. @default false */
  all?: boolean;
  /** Do not connect: lint every migration, severity without table sizes. @default false */
  offline?: boolean;
  /** @default DEFAULT_THRESHOLD_BYTES */
  thresholdBytes?: number;
}

export interface LintResult extends LintReport {
  plan: string;
  scope: 'pending' | 'all';
  dialect: Dialect;
  thresholdBytes: number;
  /** Migration files not linted (JavaScript/TypeScript modules). */
  skipped: Array<{ file: string; reason: string }>;
  error: null;
}

function dialectOf(loaded: LoadedPlan): Dialect {
  return loaded.plan.database.engine === 'mysql' ? 'mysql' : 'postgres';
}

async function migrationFiles(loaded: LoadedPlan): Promise<MigrationFile[]> {
  try {
    return await listMigrationFiles(path.resolve(loaded.dir, loaded.plan.migrations.dir), loaded.dir);
  } catch (error) {
    // A plan made only of operations may have no migrations folder (as `maint run` allows).
    const absent = error instanceof InputError && error.code === 'MIGRATIONS_DIR';
    if (absent && loaded.plan.operations.length > 0) return [];
    throw error;
  }
}

/** Lint `names` (or every file) of the plan, with sizes from `db` when given. */
export async function lintSelected(
  loaded: LoadedPlan,
  names: ReadonlySet<string> | null,
  db: Database | null,
  thresholdBytes = DEFAULT_THRESHOLD_BYTES,
): Promise<Omit<LintResult, 'plan' | 'scope' | 'error'>> {
  const { lintFiles } = await import('../../lint/lint.js');
  const files = (await migrationFiles(loaded)).filter((f) => names === null || names.has(f.name));
  const dialect = db?.dialect ?? dialectOf(loaded);
  const sizes = db
    ? { bytes: sizeMap(await db.query(tableSizesSql(db.dialect))), thresholdBytes }
    : undefined;
  const report = await lintFiles(
    files
      .filter((f) => f.kind === 'sql')
      .map((f) => ({ file: f.file, text: f.text ?? '', dialect, transactional: f.transactional })),
    sizes,
  );
  return {
    ...report,
    dialect,
    thresholdBytes,
    skipped: files
      .filter((f) => f.kind !== 'sql')
      .map((f) => ({ file: f.file, reason: 'a JavaScript/TypeScript migration: only SQL files are linted' })),
  };
}

export async function lintPlan(
  ports: Ports,
  loaded: LoadedPlan,
  options: LintOptions = {},
): Promise<LintResult> {
  const base = { plan: loaded.plan.name, error: null } as const;
  if (options.offline)
    return { ...base, scope: 'all', ...(await lintSelected(loaded, null, null, options.thresholdBytes)) };
  return withSnapshot(ports, loaded, async ({ db, pending }) => ({
    ...base,
    scope: options.all ? 'all' : 'pending',
    ...(await lintSelected(
      loaded,
      options.all ? null : new Set(pending.map((p) => p.name)),
      db,
      options.thresholdBytes,
    )),
  }));
}

/**
 * Expand or contract, for each named SQL migration in plan order: what the expand/contract guard
 * (`src/lint/guard.ts`, `guardRoll`) takes as `pending`. JavaScript/TypeScript migrations are
 * not parsed, so they are not classified and not listed.
 */
export async function classifyMigrations(
  loaded: LoadedPlan,
  names: readonly string[],
): Promise<ClassifiedMigration[]> {
  const { lintFile } = await import('../../lint/lint-file.js');
  const wanted = new Set(names);
  const files = (await migrationFiles(loaded)).filter((f) => wanted.has(f.name) && f.kind === 'sql');
  const dialect = dialectOf(loaded);
  const out: ClassifiedMigration[] = [];
  for (const f of files) {
    const r = await lintFile({ file: f.file, text: f.text ?? '', dialect, transactional: f.transactional });
    out.push({ name: f.name, classification: r.classification });
  }
  return out;
}

/**
 * The `-- maint:lint-ignore` suppressions in the named SQL migrations, for `maint run` to
 * journal. The parser loads only when a file names one; a file the parser cannot read
 * journals nothing (the run itself does not depend on the linter).
 */
export async function suppressionsIn(
  loaded: LoadedPlan,
  names: readonly string[],
): Promise<LintReport['files'][number]['suppressed']> {
  if (names.length === 0) return [];
  const wanted = new Set(names);
  // The run reads its migrations through the migrator; a listing that fails here journals nothing.
  const listed = await migrationFiles(loaded).catch(() => []);
  const files = listed.filter(
    (f) => wanted.has(f.name) && f.kind === 'sql' && (f.text ?? '').includes('maint:lint-ignore'),
  );
  if (files.length === 0) return [];
  const { lintFile } = await import('../../lint/lint-file.js');
  const dialect = dialectOf(loaded);
  const out: LintReport['files'][number]['suppressed'] = [];
  for (const f of files) {
    try {
      out.push(
        ...(await lintFile({ file: f.file, text: f.text ?? '', dialect, transactional: f.transactional }))
          .suppressed,
      );
    } catch {
      // Not parsable by the linter (or a malformed directive): `maint lint` reports it.
    }
  }
  return out;
}
