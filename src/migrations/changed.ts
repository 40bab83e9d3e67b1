/**
 * A migration file edited after it was applied: how it is named in errors (`run`, `migrate`
 * refuse to build on a changed history, exit 2) and in the read-only views' warnings, and the
 * command that records the file as it is now after a review (`maint migrate accept`).
 */
import { act, hint, renderHint, type NextAction } from '../hints.js';
import { InputError } from '../errors.js';
import type { ChangedMigration } from './migrator.js';

/** `MIGRATION_CHANGED` (exit 2): what `run`, `migrate` and `migrate down` refuse to build on. */
export function changedError(changed: readonly ChangedMigration[]): InputError {
  const issues = changed.map((c) => ({ file: c.file, message: describeChange(c) }));
  return new InputError(
    'MIGRATION_CHANGED',
    `Migration file${issues.length > 1 ? 's' : ''} changed after being applied: ${issues.map((i) => `${i.file} (${i.message})`).join('; ')}`,
    issues,
    {
      hint: hint(
        'Restore the original file (git checkout it) and put the change in a new migration ({create}); or, once a review found the edit harmless (a comment), record the file as it is now with {accept}.',
        {
          create: act('migrate create', undefined, undefined, ['NAME']),
          accept: acceptAction(changed.map((c) => c.name)),
        },
      ),
      details: { changed },
    },
  );
}

/** "applied 2026-11-29T20:00:00.000Z with checksum 1a2b…, 3c4d… now", for messages and warnings. */
export function describeChange(c: ChangedMigration): string {
  const what =
    c.state === 'applied'
      ? `applied ${c.appliedAt ?? 'at an unknown time'}`
      : `statements 1-${c.statementsDone} applied (half-applied)`;
  return `${what} with checksum ${short(c.appliedChecksum)}, ${short(c.currentChecksum)} now`;
}

/** `maint migrate accept PLAN NAME... --reason "..."`, as a hint's action. */
export function acceptAction(names: readonly string[]): NextAction {
  return act('migrate accept', undefined, { reason: 'what the review found' }, [...names]);
}

/** The first 12 hex digits of a checksum, as messages show it. */
export function short(checksum: string): string {
  return checksum.slice(0, 12);
}

/**
 * The read-only views' warning for one changed migration, with the command that accepts it on
 * `planPath` (rendered as the CLI shows commands).
 */
export function changedWarning(c: ChangedMigration, planPath: string): string {
  return renderHint(
    hint(
      `${c.file} was edited after it was applied (${describeChange(c)}); \`maint run\` and \`maint migrate\` refuse until the file is restored, or accepted after a review with {accept}`,
      { accept: { ...acceptAction([c.name]), plan: planPath } },
    ),
  );
}
