/**
 * Pure SQL builders for the database adapters. Identifiers are always quoted; the unit tests
 * assert the exact SQL.
 */
import { createHash } from 'node:crypto';
import type { Dialect } from './database.js';

/**
 * PostgreSQL `Database.script`: the text sent is `SCRIPT_BEGIN + sql + SCRIPT_END`, so a server
 * error's `position` (1-based, into the text sent) minus SCRIPT_BEGIN's length points into `sql`.
 */
export const SCRIPT_BEGIN = 'begin;\n';
export const SCRIPT_END = '\n;\ncommit';

export function quoteIdent(dialect: Dialect, name: string): string {
  if (dialect === 'mysql') return '`' + name.replaceAll('`', '``') + '`';
  return '"' + name.replaceAll('"', '""') + '"';
}

/** A possibly schema-qualified table name (`schema.table`), each part quoted. */
export function quoteQualified(dialect: Dialect, name: string): string {
  return name
    .split('.')
    .map((part) => quoteIdent(dialect, part))
    .join('.');
}

export const LOCK_HOLDERS_TABLE = 'maint_lock_holders';

export function createLockHoldersTableSql(dialect: Dialect): string {
  const t = quoteIdent(dialect, LOCK_HOLDERS_TABLE);
  if (dialect === 'mysql') {
    return (
      `create table if not exists ${t} (` +
      '`name` varchar(200) not null primary key, `lock_id` varchar(64) not null, `host` varchar(255) not null, ' +
      '`pid` int not null, `job` varchar(500) null, `purpose` varchar(100) not null, ' +
      '`since` datetime(3) not null, `last_heartbeat` datetime(3) not null, `heartbeat_ms` int not null, ' +
      '`session_id` bigint not null)'
    );
  }
  return (
    `create table if not exists ${t} (` +
    '"name" text primary key, "lock_id" text not null, "host" text not null, "pid" integer not null, ' +
    '"job" text, "purpose" text not null, "since" timestamptz not null, "last_heartbeat" timestamptz not null, ' +
    '"heartbeat_ms" integer not null, "session_id" bigint not null)'
  );
}

/** Two non-negative int4 keys for `pg_try_advisory_lock(int, int)`; the first namespaces maint. */
export function pgAdvisoryKeys(name: string): [number, number] {
  const digest = createHash('sha256').update(`maint:${name}`).digest();
  return [0x6d61696e /* "main" */, digest.readUInt32BE(0) & 0x7fffffff];
}

/** A GET_LOCK name (at most 64 characters). Server-wide in MySQL, so the database is part of it. */
export function mysqlLockName(database: string, name: string): string {
  const plain = `maint:${database}:${name}`;
  if (plain.length <= 64) return plain;
  return `maint:${createHash('sha256').update(plain).digest('hex').slice(0, 58)}`;
}

export interface AnalyzeStage {
  name: string;
  /** Statements run in order on one session. */
  sql: string[];
}

/**
 * The statements of a postgres analyze: one stage, or three like `vacuumdb --analyze-in-stages`
 * (coarse statistics in seconds so plans are sane at once, then finer ones).
 */
/** PostgreSQL dialect (server and PGlite): the user tables of the current schema, as `name`. */
export const PG_LIST_TABLES_SQL =
  "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1";

/** PostgreSQL dialect: the server's clock (not the transaction's start), as `now`. */
export const PG_SERVER_TIME_SQL = 'select clock_timestamp() as now';

export function postgresAnalyzeStages(
  tables: string[],
  mode: 'full' | 'stages',
  vacuum: boolean,
): AnalyzeStage[] {
  const list = tables.map((t) => quoteQualified('postgres', t)).join(', ');
  const final = vacuum ? `vacuum (analyze) ${list}` : `analyze ${list}`;
  if (mode === 'full') return [{ name: vacuum ? 'vacuum analyze' : 'analyze', sql: [final] }];
  return [
    { name: 'stage 1 (statistics target 1)', sql: ['set default_statistics_target = 1', `analyze ${list}`] },
    {
      name: 'stage 2 (statistics target 10)',
      sql: ['set default_statistics_target = 10', `analyze ${list}`],
    },
    { name: 'stage 3 (default statistics target)', sql: ['reset default_statistics_target', final] },
  ];
}

export function mysqlAnalyzeSql(tables: string[]): string {
  return `analyze table ${tables.map((t) => quoteQualified('mysql', t)).join(', ')}`;
}
