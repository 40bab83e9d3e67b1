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
 * Each statement on its own, each with its own lock-timeout retries, all on one session (so a
 * `set` in one statement holds for the next, and the run pays one connection per migration, not
 * one per statement). Applying is journaled: the `running` row counts the statements done, and a
 * re-run resumes after them; the last statement's record is the one that marks the migration
 * applied (one commit fewer per migration).
 */
export async function statementwise(
  step: MigrationStep,
  statements: string[],
  runStatement: RunStatement,
): Promise<void> {
  const f = step.file;
  const journaled = step.direction.journaled;
  const from = journaled ? await startJournal(step, statements) : 0;
  if (from < statements.length)
    await step.session(async (conn) => {
      for (let i = from; i < statements.length; i++) {
        const statement = statements[i]!;
        const last = i === statements.length - 1;
        const progress = !journaled
          ? undefined
          : last
            ? step.state.finish(f.name, f.checksum, step.elapsed())
            : step.state.progress(f.name, i + 1, prefixChecksum(statements, i + 1));
        try {
          await step.attempt(statement, false, () => runStatement(step, conn, statement, progress));
        } catch (error) {
          if (!journaled) throw error;
          throw partialFailure(error, f, i, statements.length);
        }
      }
    });
  // Not journaled (or resumed with every statement done, or no statement): the record on its own.
  if (!journaled) await execute(step.db, step.record());
  else if (from >= statements.length)
    await execute(step.db, step.state.finish(f.name, f.checksum, step.elapsed()));
}

/** Starts (or finds) the migration's `running` row; returns how many statements are done. */
async function startJournal(step: MigrationStep, statements: string[]): Promise<number> {
  const f = step.file;
  const begin = step.state.begin(f.name, prefixChecksum(statements, 0));
  const begun = await step.db.query(begin.sql, begin.params);
  // A new row has done nothing yet; only a row a killed run left needs reading.
  if (begun.rowCount === 1) return 0;
  const one = step.state.selectOne(f.name);
  const row = (await step.db.query<StateRow>(one.sql, one.params))[0];
  const from = Number(row?.statements_done ?? 0);
  if (from > 0) step.logger?.info(`${f.name}: resuming at statement ${from + 1} of ${statements.length}`);
  return from;
}
