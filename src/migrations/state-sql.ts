/**
 * Pure SQL for the table that records migrations (`migrations.table`). A row is `running` while
 * a non-transactional migration is under way (with how many statements are done, so a crash
 * resumes at the right statement) and `applied` once it is complete.
 */
import type { Dialect } from '../db/database.js';
import { quoteIdent } from '../db/sql.js';

export interface StateSql {
  create: string;
  select: string;
  /** Params: name, checksum. Starts or keeps a `running` row. */
  begin: string;
  /** Params: statements done, checksum of the statements done, name. */
  progress: string;
  /** Params: checksum, duration ms, name. */
  finish: string;
  /** Params: name, checksum, duration ms. A transactional migration's one-shot record. */
  insertApplied: string;
  /** Params: name. */
  remove: string;
}

export function stateSql(dialect: Dialect, table: string): StateSql {
  const t = quoteIdent(dialect, table);
  const q = (c: string): string => quoteIdent(dialect, c);
  const p = (i: number): string => (dialect === 'postgres' ? `$${i}` : '?');
  const now = dialect === 'postgres' ? 'clock_timestamp()' : 'utc_timestamp(3)';
  const create =
    dialect === 'postgres'
      ? `create table if not exists ${t} ("name" text primary key, "checksum" text not null, "state" text not null, ` +
        '"statements_done" integer not null default 0, "applied_at" timestamptz, "duration_ms" integer)'
      : `create table if not exists ${t} (\`name\` varchar(255) not null primary key, \`checksum\` char(64) not null, \`state\` varchar(16) not null, ` +
        '`statements_done` int not null default 0, `applied_at` datetime(3) null, `duration_ms` int null)';
  const begin =
    dialect === 'postgres'
      ? `insert into ${t} ("name", "checksum", "state") values ($1, $2, 'running') on conflict ("name") do nothing`
      : `insert ignore into ${t} (\`name\`, \`checksum\`, \`state\`) values (?, ?, 'running')`;
  return {
    create,
    select: `select ${q('name')}, ${q('checksum')}, ${q('state')}, ${q('statements_done')}, ${q('applied_at')}, ${q('duration_ms')} from ${t} order by ${q('name')}`,
    begin,
    progress: `update ${t} set ${q('statements_done')} = ${p(1)}, ${q('checksum')} = ${p(2)} where ${q('name')} = ${p(3)}`,
    finish: `update ${t} set ${q('state')} = 'applied', ${q('checksum')} = ${p(1)}, ${q('applied_at')} = ${now}, ${q('duration_ms')} = ${p(2)} where ${q('name')} = ${p(3)}`,
    insertApplied: `insert into ${t} (${q('name')}, ${q('checksum')}, ${q('state')}, ${q('applied_at')}, ${q('duration_ms')}) values (${p(1)}, ${p(2)}, 'applied', ${now}, ${p(3)})`,
    remove: `delete from ${t} where ${q('name')} = ${p(1)}`,
  };
}

/**
 * PostgreSQL: the record of a transactional migration with literal values, to travel in the same
 * round trip as the migration. The duration is the transaction's, measured by the server.
 */
export function insertAppliedLiteralSql(table: string, name: string, checksum: string): string {
  const literal = (v: string): string => `'${v.replaceAll("'", "''")}'`;
  return (
    `insert into ${quoteIdent('postgres', table)} ("name", "checksum", "state", "applied_at", "duration_ms") ` +
    `values (${literal(name)}, ${literal(checksum)}, 'applied', clock_timestamp(), (extract(epoch from clock_timestamp() - now()) * 1000)::int)`
  );
}

/** Session statements that cap how long DDL may wait for a table lock. */
export function lockTimeoutSql(dialect: Dialect, ms: number, local: boolean): string[] {
  if (dialect === 'postgres')
    return [`set ${local ? 'local ' : ''}lock_timeout = '${Math.max(1, Math.round(ms))}ms'`];
  // MySQL/MariaDB take whole seconds here; metadata locks (DDL) and row locks (DML) both count.
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return [`set session lock_wait_timeout = ${seconds}`, `set session innodb_lock_wait_timeout = ${seconds}`];
}

/** Finds an index a failed CREATE INDEX CONCURRENTLY left INVALID (param: index name), as quoted regclass text. */
export const FIND_INVALID_INDEX_SQL =
  'select i.indexrelid::regclass::text as name from pg_index i join pg_class c on c.oid = i.indexrelid ' +
  'join pg_namespace n on n.oid = c.relnamespace where not i.indisvalid and c.relname = $1 and n.nspname = any (current_schemas(false))';

/** `regclassText` comes from FIND_INVALID_INDEX_SQL, already quoted by the server. */
export function dropIndexConcurrentlySql(regclassText: string): string {
  return `drop index concurrently if exists ${regclassText}`;
}
