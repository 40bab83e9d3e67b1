/**
 * Runs an operation's SQL text through the Database port: the whole text in one transaction
 * (default), or statement by statement on one connection for statements that refuse a
 * transaction (ALTER SYSTEM, VACUUM, CREATE INDEX CONCURRENTLY). Independent of the engine.
 */
import type { Database, Queryable } from '../db/database.js';
import { splitStatements } from '../migrations/split.js';

export interface RunSqlOptions {
  sql: string;
  /** One transaction for the whole text; false runs each statement on its own. */
  transaction: boolean;
  signal?: AbortSignal;
}

export interface SqlResult {
  statements: number;
}

/** A statement failed. `nothingCommitted`: the database is as it was before (nothing to undo). */
export class SqlOperationError extends Error {
  constructor(
    message: string,
    readonly statements: number,
    readonly nothingCommitted: boolean,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'SqlOperationError';
  }
}

export async function runSql(db: Database, options: RunSqlOptions): Promise<SqlResult> {
  const statements = splitStatements(options.sql, { dialect: db.dialect });
  const queryOptions = options.signal ? { signal: options.signal } : {};
  if (statements.length === 0) return { statements: 0 };
  let done = 0;
  if (options.transaction) {
    // MySQL commits DDL implicitly: a failure after one leaves it done (the rollback must undo it).
    const atomic = db.dialect !== 'mysql';
    try {
      // PostgreSQL: one round trip, and ALTER TABLE … ; UPDATE … commit together.
      if (db.script) await db.script(options.sql, queryOptions);
      else
        await db.transaction(async (tx) => {
          for (const statement of statements) {
            await tx.query(statement, [], queryOptions);
            done++;
          }
        });
    } catch (error) {
      const nothing = atomic || done === 0;
      throw new SqlOperationError(
        `${(error as Error).message}${nothing ? ' (the transaction was rolled back)' : ''}`,
        statements.length,
        nothing,
        { cause: error },
      );
    }
    return { statements: statements.length };
  }
  const each = async (conn: Queryable) => {
    for (const statement of statements) {
      await conn.query(statement, [], queryOptions);
      done++;
    }
  };
  try {
    // One connection: a `set` in the text holds for the statements after it.
    if (db.session) await db.session(each);
    else await each(db);
  } catch (error) {
    const which = statements.length > 1 ? ` (statement ${done + 1} of ${statements.length})` : '';
    throw new SqlOperationError(`${(error as Error).message}${which}`, statements.length, done === 0, {
      cause: error,
    });
  }
  return { statements: statements.length };
}
