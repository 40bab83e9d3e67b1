/**
 * The two ways of running a migration without a transaction around it, shared by the dialect
 * executors: a module in a session, and SQL statement by statement (journaled when applying).
 */
import type { Queryable } from '../db/database.js';
import { partialFailure } from './failure.js';
import { prefixChecksum } from './files.js';
import type { StateRow, SqlStatement } from './state-sql.js';
import { execute, type MigrationStep } from './step.js';

/**
 * A module's function on a session, then its record. `atomic`: how failures are worded (see
 * migrationFailure).
 */
export async function moduleInSession(
  step: MigrationStep,
  run: (db: Queryable) => Promise<unknown>,
  atomic: boolean,
): Promise<void> {
  await step.attempt(step.direction.moduleLabel, atomic, async () => {
    await step.session(run, step.direction.moduleSessionLockTimeout);
    await execute(step.db, step.record());
  });
}

/**
 * How a dialect runs one statement of a statement-by-statement migration on `conn` (a session
 * whose lock timeout is set), then `progress`, its journal record, when the run is journaled.
 */
export type RunStatement = (
  step: MigrationStep,
  conn: Queryable,
  statement: string,
  progress: SqlStatement | undefined,
) => Promise<void>;

/**
 * Each statement on its own, each with its own lock-timeout retries. Applying is journaled: the
 * `running` row counts the statements done, and a re-run resumes after them.
 */
export async function statementwise(
  step: MigrationStep,
  statements: string[],
  runStatement: RunStatement,
): Promise<void> {
  const f = step.file;
  const from = step.direction.journaled ? await startJournal(step, statements) : 0;
  for (let i = from; i < statements.length; i++) {
    const statement = statements[i]!;
    const progress = step.direction.journaled
      ? step.state.progress(f.name, i + 1, prefixChecksum(statements, i + 1))
      : undefined;
    try {
      await step.attempt(statement, false, () =>
        step.session((conn) => runStatement(step, conn, statement, progress)),
      );
    } catch (error) {
      if (!step.direction.journaled) throw error;
      throw partialFailure(error, f, i, statements.length);
    }
  }
  await execute(
    step.db,
    step.direction.journaled ? step.state.finish(f.name, f.checksum, step.elapsed()) : step.record(),
  );
}

/** Starts (or finds) the migration's `running` row; returns how many statements are done. */
async function startJournal(step: MigrationStep, statements: string[]): Promise<number> {
  const f = step.file;
  await execute(step.db, step.state.begin(f.name, prefixChecksum(statements, 0)));
  const one = step.state.selectOne(f.name);
  const row = (await step.db.query<StateRow>(one.sql, one.params))[0];
  const from = Number(row?.statements_done ?? 0);
  if (from > 0) step.logger?.info(`${f.name}: resuming at statement ${from + 1} of ${statements.length}`);
  return from;
}
