/**
 * MySQL/MariaDB: DDL commits implicitly, so nothing is atomic. SQL migrations run statement by
 * statement on one session, each followed by its progress record (committed together with DML),
 * so a killed run resumes at the statement that did not finish; modules run on a session.
 */
import type { Queryable } from '../db/database.js';
import { moduleInSession, statementwise } from './exec-common.js';
import { mysqlCommitSql, mysqlCommitsImplicitly, mysqlStartTransactionSql } from './exec-sql.js';
import type { SqlStatement } from './state-sql.js';
import { execute, type Executor, type MigrationStep } from './step.js';

export const mysqlExecutor: Executor = {
  module: (step, run) => moduleInSession(step, run, false),
  sql: (step, statements) => statementwise(step, statements, runStatement),
};

async function runStatement(
  step: MigrationStep,
  conn: Queryable,
  statement: string,
  progress: SqlStatement | undefined,
): Promise<void> {
  if (!progress) {
    await conn.query(statement, [], step.queryOptions);
    return;
  }
  if (mysqlCommitsImplicitly(statement)) {
    // DDL commits on its own, before and after itself: its record follows it in autocommit.
    await conn.query(statement, [], step.queryOptions);
    await execute(conn, progress);
    return;
  }
  // DML and its progress record commit together.
  await execute(conn, mysqlStartTransactionSql());
  try {
    await conn.query(statement, [], step.queryOptions);
    await execute(conn, progress);
    await execute(conn, mysqlCommitSql());
  } catch (error) {
    // The session goes on (a retry, the next statement): nothing of this statement may stay open.
    await conn.query('rollback').catch(() => undefined);
    throw error;
  }
}
