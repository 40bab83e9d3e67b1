/**
 * Pure SQL for the table that records migrations (`migrations.table`). A row is `running` while
 * a migration run statement by statement is under way (with how many statements are done, so a
 * crash resumes at the right statement) and `applied` once it is complete. Every builder returns
 * the text and its parameters; identifiers are quoted.
 */
import type { Dialect, Row } from '../db/database.js';
import { quoteIdent } from '../db/sql.js';

/** A statement and its parameters, to pass to `Queryable.query`. */
export interface SqlStatement {
  sql: string;
  params: unknown[];
}

/** A statement without parameters: safe to join into a multi-statement script. */
export interface LiteralSql extends SqlStatement {
  params: [];
}

export function literalSql(sql: string): LiteralSql {
  return { sql, params: [] };
}

/** A row of the state table, as `select` returns it. */
export interface StateRow extends Row {
  name: string;
  checksum: string;
  state: 'running' | 'applied';
  statements_done: number;
  applied_at: Date | string | null;
  duration_ms: number | null;
}

export interface StateSql {
  create(): LiteralSql;
  /** Whether the table exists in the current schema/database, as `n` (0 or 1). */
  exists(): SqlStatement;
  /** Every row, ordered by name. */
  select(): SqlStatement;
  /** The row of one migration. */
  selectOne(name: string): SqlStatement;
  /** Starts a `running` row, or keeps the one a killed run left. */
  begin(name: string, checksum: string): SqlStatement;
  /** `checksum`: of the statements done (they may not be changed any more). */
  progress(name: string, statementsDone: number, checksum: string): SqlStatement;
  /** Marks a `running` row applied. */
  finish(name: string, checksum: string, durationMs: number): SqlStatement;
  /** A transactional migration's one-shot record. */
  insertApplied(name: string, checksum: string, durationMs: number): SqlStatement;
  remove(name: string): SqlStatement;
  /** `maint migrate accept`: the new checksum, only if the row still has the one that was read. */
  accept(name: string, previous: string, checksum: string): SqlStatement;
}

const COLUMNS = ['name', 'checksum', 'state', 'statements_done', 'applied_at', 'duration_ms'] as const;

export function stateSql(dialect: Dialect, table: string): StateSql {
  const t = quoteIdent(dialect, table);
  const q = (c: string): string => quoteIdent(dialect, c);
  const p = (i: number): string => (dialect === 'postgres' ? `$${i}` : '?');
  const now = dialect === 'postgres' ? 'clock_timestamp()' : 'utc_timestamp(3)';
  const selectAll = `select ${COLUMNS.map(q).join(', ')} from ${t}`;
  return {
    create: () =>
      literalSql(
        dialect === 'postgres'
          ? `create table if not exists ${t} ("name" text primary key, "checksum" text not null, "state" text not null, ` +
              '"statements_done" integer not null default 0, "applied_at" timestamptz, "duration_ms" integer)'
          : `create table if not exists ${t} (\`name\` varchar(255) not null primary key, \`checksum\` char(64) not null, \`state\` varchar(16) not null, ` +
              '`statements_done` int not null default 0, `applied_at` datetime(3) null, `duration_ms` int null)',
      ),
    exists: () => ({
      sql:
        dialect === 'postgres'
          ? 'select count(*)::int as n from pg_tables where tablename = $1 and schemaname = any (current_schemas(false))'
          : 'select count(*) as n from information_schema.tables where table_schema = database() and table_name = ?',
      params: [table],
    }),
    select: () => ({ sql: `${selectAll} order by ${q('name')}`, params: [] }),
    selectOne: (name) => ({ sql: `${selectAll} where ${q('name')} = ${p(1)}`, params: [name] }),
    begin: (name, checksum) => ({
      sql:
        dialect === 'postgres'
          ? `insert into ${t} ("name", "checksum", "state") values ($1, $2, 'running') on conflict ("name") do nothing`
          : `insert ignore into ${t} (\`name\`, \`checksum\`, \`state\`) values (?, ?, 'running')`,
      params: [name, checksum],
    }),
    progress: (name, statementsDone, checksum) => ({
      sql: `update ${t} set ${q('statements_done')} = ${p(1)}, ${q('checksum')} = ${p(2)} where ${q('name')} = ${p(3)}`,
      params: [statementsDone, checksum, name],
    }),
    finish: (name, checksum, durationMs) => ({
      sql: `update ${t} set ${q('state')} = 'applied', ${q('checksum')} = ${p(1)}, ${q('applied_at')} = ${now}, ${q('duration_ms')} = ${p(2)} where ${q('name')} = ${p(3)}`,
      params: [checksum, durationMs, name],
    }),
    insertApplied: (name, checksum, durationMs) => ({
      sql: `insert into ${t} (${q('name')}, ${q('checksum')}, ${q('state')}, ${q('applied_at')}, ${q('duration_ms')}) values (${p(1)}, ${p(2)}, 'applied', ${now}, ${p(3)})`,
      params: [name, checksum, durationMs],
    }),
    remove: (name) => ({ sql: `delete from ${t} where ${q('name')} = ${p(1)}`, params: [name] }),
    accept: (name, previous, checksum) => ({
      sql: `update ${t} set ${q('checksum')} = ${p(1)} where ${q('name')} = ${p(2)} and ${q('checksum')} = ${p(3)}`,
      params: [checksum, name, previous],
    }),
  };
}

/**
 * PostgreSQL: the record of a transactional migration with literal values, to travel in the same
 * round trip as the migration. The duration is the transaction's, measured by the server.
 */
export function insertAppliedLiteralSql(table: string, name: string, checksum: string): LiteralSql {
  const literal = (v: string): string => `'${v.replaceAll("'", "''")}'`;
  return literalSql(
    `insert into ${quoteIdent('postgres', table)} ("name", "checksum", "state", "applied_at", "duration_ms") ` +
      `values (${literal(name)}, ${literal(checksum)}, 'applied', clock_timestamp(), (extract(epoch from clock_timestamp() - now()) * 1000)::int)`,
  );
}
