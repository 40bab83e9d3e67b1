/**
 * PostgreSQL (server and PGlite): DDL is transactional, so a migration and its record commit
 * together. Applying first sends the whole migration and its record as one script (one round
 * trip, when the adapter has `script`); after a lock timeout it goes statement by statement in a
 * transaction, so a final failure names the statement. `-- maint:no-transaction` files (CREATE
 * INDEX CONCURRENTLY) and `transaction = false` modules run outside a transaction.
 */
import type { Queryable } from '../db/database.js';
import { moduleInSession, statementwise } from './exec-common.js';
import { QueryError } from '../db/errors.js';
import { SCRIPT_BEGIN } from '../db/sql.js';
import {
  dropIndexConcurrentlySql,
  findInvalidIndexSql,
  SEPARATOR,
  transactionalBatchSql,
} from './exec-sql.js';
import { insertAppliedLiteralSql, type SqlStatement } from './state-sql.js';
import { concurrentIndexName } from './split.js';
import { execute, type Executor, type MigrationStep } from './step.js';

export const postgresExecutor: Executor = {
  async module(step, run, transactional) {
    // A module exporting `transaction = false` runs on a session: its failure is not undone.
    if (!transactional) return moduleInSession(step, run, false);
    await step.attempt(step.direction.moduleLabel, true, () =>
      inTransaction(step, async (tx) => {
        await run(tx);
        await execute(tx, step.record());
      }),
    );
  },

  async sql(step, statements) {
    if (!step.file.transactional) return statementwise(step, statements, runStatement);
    let attempt = 0;
    let current = statements.length === 1 ? statements[0]! : `${statements.length} statements`;
    const label = step.direction.atomicLabel(step.file);
    await step.attempt(
      () => label ?? current,
      true,
      () => {
        attempt++;
        if (attempt === 1 && step.direction.oneRoundTrip && step.db.script) {
          // Most migrations get their locks at once, and round trips dominate the cost of many
          // small migrations.
          const record = insertAppliedLiteralSql(step.config.table, step.file.name, step.file.checksum);
          const batch = transactionalBatchSql(step.config.lockTimeout, statements, record);
          return step.db.script(batch.sql, step.queryOptions).catch((error: unknown) => {
            // Name the statement that failed, not the script's `begin;`.
            const index = failingStatement(error, batch.sql, statements);
            if (index !== undefined) {
              current = statements[index]!;
              step.failedAt = { index, statements };
            }
            throw error;
          });
        }
        return inTransaction(step, async (tx) => {
          for (const [index, statement] of statements.entries()) {
            current = statement;
            step.failedAt = { index, statements };
            await tx.query(statement, [], step.queryOptions);
          }
          step.failedAt = undefined;
          await execute(tx, step.record());
        });
      },
    );
  },
};

/**
 * Which of `statements` (its index) a failed one-round-trip script stopped at: by the server's
 * error position (parse and analysis errors: syntax, unknown table or column); for "cannot run
 * inside a transaction block", the statement that cannot (CREATE INDEX CONCURRENTLY...); else
 * by how many statements the server completed before the error (runtime errors carry no
 * position: a constraint violation, a failed cast, a division by zero).
 */
export function failingStatement(error: unknown, script: string, statements: string[]): number | undefined {
  const cause = (error as { cause?: { position?: unknown; code?: unknown } } | null)?.cause;
  if (cause?.code === ACTIVE_SQL_TRANSACTION) {
    const index = statements.findIndex((s) => concurrentIndexName(s) !== null);
    return index >= 0 ? index : undefined;
  }
  // The script is `set local lock_timeout…` parts, the statements, the record, joined by SEPARATOR.
  const first = script.indexOf(statements[0] ?? '\u0000');
  if (first < 0) return undefined;
  const position = Number(cause?.position);
  if (Number.isFinite(position) && position > 0) {
    const offset = position - 1 - SCRIPT_BEGIN.length;
    if (offset < first) return undefined;
    let start = first;
    for (const [index, statement] of statements.entries()) {
      const end = start + statement.length;
      if (offset < end + SEPARATOR.length) return index;
      start = end + SEPARATOR.length;
    }
    return undefined;
  }
  // No position (runtime errors: a constraint, a cast, a missing row): the statements the server
  // completed before the error, less the script's `begin` and the parts before the statements.
  const completed = error instanceof QueryError ? error.completedStatements : undefined;
  if (completed === undefined) return undefined;
  const preamble = 1 + (script.slice(0, first).split(SEPARATOR).length - 1);
  const index = completed - preamble;
  return index >= 0 && index < statements.length ? index : undefined;
}

/** SQLSTATE 25001: a statement that may not run inside a transaction block. */
const ACTIVE_SQL_TRANSACTION = '25001';

/** `fn` in a transaction whose lock timeout is set. */
function inTransaction(step: MigrationStep, fn: (tx: Queryable) => Promise<void>): Promise<void> {
  return step.db.transaction(async (tx) => {
    await step.setLockTimeout(tx, true);
    await fn(tx);
  });
}

/** A statement of a `-- maint:no-transaction` file, on its session. */
async function runStatement(
  step: MigrationStep,
  conn: Queryable,
  statement: string,
  progress: SqlStatement | undefined,
): Promise<void> {
  const index = step.direction.journaled ? concurrentIndexName(statement) : null;
  if (index) {
    // A CREATE INDEX CONCURRENTLY that failed or was killed leaves an INVALID index; rebuild it.
    const find = findInvalidIndexSql(index);
    const invalid = await conn.query<{ name: string }>(find.sql, find.params);
    for (const r of invalid) await execute(conn, dropIndexConcurrentlySql(r.name));
  }
  await conn.query(statement, [], step.queryOptions);
  if (progress) await execute(conn, progress);
}
