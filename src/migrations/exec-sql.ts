/**
 * Pure SQL the executors run around a migration's own statements: session lock timeouts, the
 * PostgreSQL one-round-trip script and INVALID-index cleanup, MySQL's per-statement transaction.
 */
import type { Dialect } from '../db/database.js';
import { literalSql, type LiteralSql, type SqlStatement } from './state-sql.js';

/** Statements that cap how long DDL may wait for a table lock: `local` to the transaction, or the session's. */
export function lockTimeoutSql(dialect: Dialect, ms: number, local: boolean): LiteralSql[] {
  if (dialect === 'postgres')
    return [literalSql(`set ${local ? 'local ' : ''}lock_timeout = '${Math.max(1, Math.round(ms))}ms'`)];
  // MySQL/MariaDB take whole seconds here; metadata locks (DDL) and row locks (DML) both count.
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return [literalSql(`set session lock_wait_timeout = ${seconds}, innodb_lock_wait_timeout = ${seconds}`)];
}

/** Comments and blank space before a statement's first word (not `/*!` version comments: code). */
const LEADING = /^(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|\/\*(?!!)[\s\S]*?\*\/)*/;

/**
 * MySQL/MariaDB: whether `statement` is DDL, which commits implicitly (before and after itself),
 * so a transaction around it and its progress record would hold only the record. Anything not
 * recognised counts as DML: wrongly taking DML for DDL would let it commit apart from its record.
 */
export function mysqlCommitsImplicitly(statement: string): boolean {
  return /^(?:create|alter|drop|rename|truncate)\b/i.test(statement.replace(LEADING, ''));
}

/**
 * PostgreSQL: a transactional migration and its record as one multi-statement text, for
 * `Database.script` (simple protocol, one round trip).
 */
/** Between the parts of a one-round-trip script (a statement may end in a comment: hence the newlines). */
export const SEPARATOR = '\n;\n';

export function transactionalBatchSql(
  lockTimeoutMs: number,
  statements: string[],
  record: LiteralSql,
): LiteralSql {
  return literalSql(
    [...lockTimeoutSql('postgres', lockTimeoutMs, true).map((s) => s.sql), ...statements, record.sql].join(
      SEPARATOR,
    ),
  );
}

/** PostgreSQL: an index a failed CREATE INDEX CONCURRENTLY left INVALID, as quoted regclass text `name`. */
export function findInvalidIndexSql(indexName: string): SqlStatement {
  return {
    sql:
      'select i.indexrelid::regclass::text as name from pg_index i join pg_class c on c.oid = i.indexrelid ' +
      'join pg_namespace n on n.oid = c.relnamespace where not i.indisvalid and c.relname = $1 and n.nspname = any (current_schemas(false))',
    params: [indexName],
  };
}

/** `regclassText` comes from findInvalidIndexSql, already quoted by the server. */
export function dropIndexConcurrentlySql(regclassText: string): LiteralSql {
  return literalSql(`drop index concurrently if exists ${regclassText}`);
}

/** MySQL: a statement and its progress record commit together (DDL commits implicitly before the record). */
export function mysqlStartTransactionSql(): LiteralSql {
  return literalSql('start transaction');
}

export function mysqlCommitSql(): LiteralSql {
  return literalSql('commit');
}
