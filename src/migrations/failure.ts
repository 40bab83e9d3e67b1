/**
 * What a failed migration throws: the lock never came (exit 5), a statement failed (exit 5), or a
 * migration run statement by statement stopped half-way (exit 6: resume after a fix).
 */
import { act, hint } from '../hints.js';
import { QueryError } from '../db/errors.js';
import { MaintError, OperatorActionError, RolledBackError } from '../errors.js';
import type { MigrationFile } from './files.js';
import { LockTimeoutExhaustedError } from './retry.js';
import { describeBlockers, type Blocker } from './blockers.js';
import { stripLeadingComments } from './split.js';

/**
 * `statement`: what was running (or what the failure names); `atomic`: the migration ran in one
 * transaction, so nothing of it remains.
 */
export function migrationFailure(
  error: unknown,
  f: MigrationFile,
  statement: string,
  lockTimeoutMs: number,
  atomic: boolean,
  source?: string,
  at?: { index: number; statements: readonly string[] },
  blockers?: readonly Blocker[],
): MaintError {
  const short = stripLeadingComments(statement).replace(/\s+/g, ' ').trim().slice(0, 160);
  const line =
    source === undefined ? null : at ? lineAt(source, at.statements, at.index) : lineOf(source, statement);
  const total = at?.statements.length ?? 0;
  const number = line !== null && at ? ` (statement ${at.index + 1} of ${total})` : '';
  const where = line !== null ? `${f.file}:${line}${number}` : f.file;
  const position = line !== null && at ? { statementNumber: at.index + 1, statements: total } : {};
  if (error instanceof LockTimeoutExhaustedError) {
    return new RolledBackError(
      'MIGRATION_LOCK_TIMEOUT',
      `${f.file}: could not get the lock for \`${short}\` within ${lockTimeoutMs} ms after ${error.attempts} attempts${blockers ? ` (${describeBlockers(blockers)})` : ''}; live traffic was never blocked longer than that.`,
      {
        cause: error.cause,
        hint: hint(
          blockers && blockers.length > 0
            ? `A long transaction holds that table (pid ${blockers.map((b) => b.pid).join(', ')}). End it or wait for it, then retry with {migrate}, or raise \`migrations.retries\`.`
            : 'A long transaction holds that table. Retry later with {migrate}, or raise `migrations.retries`.',
          {
            migrate: act('migrate'),
          },
        ),
        details: { migration: f.name, statement: short, ...(blockers ? { blockers: [...blockers] } : {}) },
      },
    );
  }
  if (error instanceof MaintError && !(error instanceof QueryError)) return error;
  // The driver's "(in: first line)" names what was sent (a script's `begin;`); we name the statement.
  const raw = error instanceof Error ? error.message : String(error);
  const message = line !== null ? raw.replace(/ \(in: [^)]*\)$/, '') : raw;
  const sqlState = error instanceof QueryError ? error.sqlState : undefined;
  if (atomic && sqlState === '25001' && line !== null) {
    return new RolledBackError(
      'MIGRATION_FAILED',
      `${where}: \`${short}\` cannot run inside a transaction; the migration was rolled back: ${message}`,
      {
        cause: error,
        hint: hint(
          `Add the line \`-- maint:no-transaction\` at the top of ${f.file}, before its first statement (it then runs statement by statement, outside a transaction), then run {migrate} again.`,
          { migrate: act('migrate') },
        ),
        details: { migration: f.name, statement: short, line, ...position },
      },
    );
  }
  if (!atomic && f.kind === 'module') {
    // A module run on a session, not in a transaction: nothing undoes what it wrote, and it
    // has no statements to resume at; it runs again from the start.
    return new RolledBackError(
      'MIGRATION_FAILED',
      `${f.file} failed in ${short}, outside a transaction: ${message}; what it wrote before the failure stays`,
      {
        cause: error,
        hint: hint(
          'Fix the migration, then run {migrate} again: it runs again from its start, so it must be safe to re-run (a batched backfill that skips rows already done is).',
          { migrate: act('migrate') },
        ),
        details: { migration: f.name, statement: short, outsideTransaction: true },
      },
    );
  }
  if (atomic) {
    const what =
      line !== null
        ? `${where}: \`${short}\` failed and the migration was rolled back`
        : `${f.file} failed and was rolled back`;
    return new RolledBackError('MIGRATION_FAILED', `${what}: ${message}`, {
      cause: error,
      hint: hint('Fix the migration (it never applied), then run {migrate} again.', {
        migrate: act('migrate'),
      }),
      details: { migration: f.name, ...(line !== null ? { statement: short, line, ...position } : {}) },
    });
  }
  return new RolledBackError('MIGRATION_FAILED', `${where} failed at \`${short}\`: ${message}`, {
    cause: error,
    hint: hint('Fix the statement, then run {migrate} again: it resumes at that statement.', {
      migrate: act('migrate'),
    }),
    details: { migration: f.name, statement: short, ...(line !== null ? { line } : {}) },
  });
}

/** The 1-based line of `source` where `statement` (a piece the splitter cut from it) begins. */
export function lineOf(source: string, statement: string): number | null {
  const body = stripLeadingComments(statement).trim();
  if (body === '') return null;
  const at = source.indexOf(body.split('\n')[0]!);
  if (at < 0) return null;
  return source.slice(0, at).split('\n').length;
}

/**
 * The 1-based line where statement `index` of `statements` (cut from `source` in order) begins:
 * each one is looked for after the one before, so a statement written twice gets its own line.
 */
export function lineAt(source: string, statements: readonly string[], index: number): number | null {
  let from = 0;
  for (let i = 0; i <= index; i++) {
    const first = stripLeadingComments(statements[i] ?? '')
      .trim()
      .split('\n')[0]!;
    if (first === '') return null;
    const at = source.indexOf(first, from);
    if (at < 0) return null;
    if (i === index) return source.slice(0, at).split('\n').length;
    from = at + first.length;
  }
  return null;
}

/**
 * A journaled migration that failed at statement `index` (0-based) of `total`. Out of lock
 * retries is a clean stop (exit 5), and so is a failure before anything of the file ran;
 * otherwise the applied statements remain and a re-run resumes (exit 6).
 */
export function partialFailure(error: unknown, f: MigrationFile, index: number, total: number): unknown {
  const done = index;
  if ((error instanceof MaintError && error.code === 'MIGRATION_LOCK_TIMEOUT') || done === 0) return error;
  return new OperatorActionError(
    'MIGRATION_PARTIAL',
    `${f.file} stopped at statement ${index + 1} of ${total}; ${done === 1 ? 'statement 1 is' : `statements 1-${done} are`} applied. ${(error as Error).message}`,
    {
      cause: error,
      hint: hint(`Fix the cause, then run {migrate} again: it resumes at statement ${index + 1}.`, {
        migrate: act('migrate'),
      }),
      details: { migration: f.name, statement: index + 1, statementsDone: done, statements: total },
    },
  );
}

/** umzug wraps what a migration throws; surface our own error. */
export function unwrap(error: unknown): unknown {
  let current: unknown = error;
  for (let i = 0; i < 5 && current; i++) {
    if (current instanceof MaintError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return error;
}
