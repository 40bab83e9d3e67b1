/**
 * Who holds the lock a migration statement could not get: the sessions of this database in a
 * transaction older than the lock timeout (a transaction that began after the statement queued
 * would have queued behind it, so only older ones can block it), read on another pooled
 * connection with a short statement timeout, so describing a blocker can never block or fail a
 * migration. PostgreSQL: pg_stat_activity, limited to sessions holding a granted lock on a table
 * (pg_locks). MySQL/MariaDB: information_schema.INNODB_TRX joined to PROCESSLIST (metadata locks
 * are held by open transactions; METADATA_LOCK_INFO is a plugin that is usually not loaded).
 */
import type { Database, Dialect } from '../db/database.js';
import { formatDuration } from '../plan/duration.js';
import { redact } from '../support/redact.js';

export interface Blocker {
  /** PostgreSQL backend pid; MySQL/MariaDB connection id (`KILL` takes it). */
  pid: number;
  /** PostgreSQL `application_name` (MySQL/MariaDB have none: null). */
  application: string | null;
  /** Client address (`host:port` on MySQL/MariaDB), null for a local socket. */
  client: string | null;
  /** `idle in transaction`, `active`… (PostgreSQL); `Sleep`, `Query: Sending data`… (MySQL). */
  state: string | null;
  transactionAgeMs: number | null;
  /** The session's current (MySQL) or last (PostgreSQL) statement, literals masked, at most 200 characters. */
  query: string | null;
}

const LIMIT = 5;
/** Longest the look-up may take, in ms: past it the retry goes on without names. */
const TIMEOUT_MS = 1000;
export const QUERY_CHARS = 200;

/** The look-up SQL per dialect; `$1`/`?`: the minimum transaction age in ms. Pure, exported for tests. */
export function blockersSql(dialect: Dialect): string {
  return dialect === 'postgres'
    ? `select a.pid, a.application_name as application, host(a.client_addr) as client, a.state,
  (extract(epoch from clock_timestamp() - a.xact_start) * 1000)::bigint as age_ms, a.query
from pg_stat_activity a
where a.datname = current_database() and a.pid <> pg_backend_pid() and a.xact_start is not null
  and clock_timestamp() - a.xact_start >= $1::int * interval '1 millisecond'
  and exists (select 1 from pg_locks l join pg_class c on c.oid = l.relation
    join pg_namespace n on n.oid = c.relnamespace
    where l.pid = a.pid and l.granted and l.locktype = 'relation'
      and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%')
order by a.xact_start limit ${LIMIT}`
    : `set statement max_statement_time = ${TIMEOUT_MS / 1000} for
select p.id as pid, null as application, p.host as client,
  concat(p.command, if(p.state is null or p.state = '', '', concat(': ', p.state))) as state,
  timestampdiff(microsecond, t.trx_started, now(6)) div 1000 as age_ms, p.info as query
from information_schema.innodb_trx t
join information_schema.processlist p on p.id = t.trx_mysql_thread_id
where p.db = database() and p.id <> connection_id()
  and timestampdiff(microsecond, t.trx_started, now(6)) div 1000 >= ?
order by t.trx_started limit ${LIMIT}`;
}

/** A statement as it may be shown: string literals and numbers masked, whitespace folded, cut. */
export function maskQuery(sql: string): string {
  const masked = sql
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, '?')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\b\d+(?:\.\d+)?\b/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = masked.length > QUERY_CHARS ? `${masked.slice(0, QUERY_CHARS - 1)}…` : masked;
  return redact(cut);
}

interface BlockerRow extends Record<string, unknown> {
  pid: number | string;
  application: string | null;
  client: string | null;
  state: string | null;
  age_ms: number | string | null;
  query: string | null;
}

/**
 * The sessions that may hold the lock, oldest transaction first; [] when none is found or the
 * look-up fails or takes longer than a second (it must never be the reason a migration fails).
 */
export async function findBlockers(db: Database, minAgeMs: number): Promise<Blocker[]> {
  const lookup = async (): Promise<BlockerRow[]> => {
    const sql = blockersSql(db.dialect);
    const params = [Math.max(0, Math.floor(minAgeMs * 0.9))];
    if (db.dialect !== 'postgres') return db.query<BlockerRow>(sql, params);
    return db.transaction(async (tx) => {
      await tx.query(`set local statement_timeout = ${TIMEOUT_MS}`);
      return tx.query<BlockerRow>(sql, params);
    });
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<BlockerRow[]>((resolve) => {
    timer = setTimeout(() => resolve([]), TIMEOUT_MS + 500);
  });
  try {
    const rows = await Promise.race([lookup().catch((): BlockerRow[] => []), late]);
    return rows.map((r) => ({
      pid: Number(r.pid),
      application: r.application ? redact(r.application) : null,
      client: r.client ?? null,
      state: r.state ?? null,
      transactionAgeMs: r.age_ms === null ? null : Number(r.age_ms),
      query: r.query ? maskQuery(r.query) : null,
    }));
  } finally {
    clearTimeout(timer);
  }
}

/** One sentence naming the blockers: `held by pid 41 ("psql", 10.0.0.5, idle in transaction, open 12s: \`select …\`)`. */
export function describeBlockers(blockers: readonly Blocker[]): string {
  if (blockers.length === 0) return 'no session older than the lock timeout was found holding a table lock';
  const one = (b: Blocker): string => {
    const parts = [
      b.application ? `"${b.application}"` : null,
      b.client,
      b.state,
      b.transactionAgeMs !== null ? `transaction open ${formatDuration(b.transactionAgeMs)}` : null,
    ].filter((p): p is string => Boolean(p));
    return `pid ${b.pid} (${parts.join(', ')})${b.query ? `: \`${b.query}\`` : ''}`;
  };
  return `held by ${blockers.map(one).join('; ')}`;
}
