/**
 * The PostgreSQL `template` clone: `CREATE DATABASE clone TEMPLATE live` on the same cluster.
 * PostgreSQL copies a template only when no session is connected to it, so the copy is
 * offline: new connections are refused (`ALLOW_CONNECTIONS false`), every session on the live
 * database is ended (maint's pooled journal connections included; its lock must be held from
 * another database, `database.lockUrl`), the database is copied, then connections are allowed
 * again. Everything here runs from the server's `postgres` database (the admin connection).
 *
 * The block is marked on the live database itself (`maint.connections_blocked_by`, a setting
 * kept in the shared catalog pg_db_role_setting and readable from any database), in the same
 * transaction as `ALLOW_CONNECTIONS false`: a re-run after kill -9 cannot reach the journal
 * (it is in the blocked database), so it finds the mark from the admin connection and allows
 * connections again before anything else (see `reopenAfterCrash`).
 */
import type { Database } from '../db/database.js';
import { ExitCode, MaintError } from '../errors.js';

/** The setting that marks a block as maint's (and names the run). */
export const BLOCK_MARK = 'maint.connections_blocked_by';

/**
 * CREATE DATABASE … TEMPLATE throughput assumed for the estimate: measured 130–210 MB/s at 113 MB
 * on a shared 2-core machine (0.53–0.86 s); assumed 50 MB/s plus 2 s (its checkpoint), so the
 * estimate errs long.
 */
export const TEMPLATE_MB_PER_S = 50;

export function templateEstimateMs(bytes: number): number {
  return Math.ceil(2000 + (bytes / (TEMPLATE_MB_PER_S * 1e6)) * 1000);
}

const lit = (text: string) => `'${text.replace(/'/g, "''")}'`;
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

const POLL_MS = 10;

async function until(signal: AbortSignal, done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) {
    if (signal.aborted)
      throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export interface BlockState {
  allowed: boolean;
  /** The run that blocked it (maint's mark), or null. */
  blockedBy: string | null;
}

/** Whether the database accepts connections, and whose block it is. */
export async function blockState(admin: Database, database: string): Promise<BlockState | null> {
  const [row] = await admin.query<{ allowed: boolean; mark: string | null }>(
    `select d.datallowconn as allowed,
       (select split_part(c, '=', 2) from pg_db_role_setting s, unnest(s.setconfig) c
         where s.setdatabase = d.oid and s.setrole = 0 and c like ${lit(`${BLOCK_MARK}=%`)}) as mark
     from pg_database d where d.datname = $1`,
    [database],
  );
  return row ? { allowed: row.allowed, blockedBy: row.mark } : null;
}

/** New connections refused, and the block marked as this run's, in one transaction. */
export async function blockConnections(admin: Database, database: string, runId: string): Promise<void> {
  await admin.transaction(async (tx) => {
    await tx.query(`alter database ${ident(database)} set ${BLOCK_MARK} = ${lit(runId)}`);
    await tx.query(`alter database ${ident(database)} with allow_connections false`);
  });
}

/**
 * Connections allowed again and the mark removed; only a block maint made (a database an
 * operator closed is left closed). Returns whether it reopened anything. Safe to repeat.
 */
export async function reopenConnections(admin: Database, database: string): Promise<boolean> {
  const state = await blockState(admin, database);
  if (!state || state.blockedBy === null) return false;
  await admin.transaction(async (tx) => {
    await tx.query(`alter database ${ident(database)} with allow_connections true`);
    await tx.query(`alter database ${ident(database)} reset ${BLOCK_MARK}`);
  });
  return !state.allowed;
}

/**
 * Refuse (before blocking anything) when a maint lock session is connected to the database:
 * ending it would lose the lock mid-run (a `lockUrl` naming the live database by another host
 * name than the preflight could compare).
 */
export async function assertNoLockSession(admin: Database, database: string): Promise<void> {
  const [row] = await admin.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'maint-lock'`,
    [database],
  );
  if (row!.n > 0)
    throw new MaintError(
      'CLONE_LOCK_ON_LIVE',
      ExitCode.rolledBack,
      `${row!.n} maint lock sessions are connected to ${database}: the offline copy would end them (and the lock with them)`,
      {
        hint: "Point database.lockUrl at the server's postgres database (by the same host name as database.url), then run again.",
      },
    );
}

/** End every session on the database (the admin connection is elsewhere); returns how many. */
export async function endSessions(admin: Database, database: string, signal: AbortSignal): Promise<number> {
  const sessions = async () =>
    (
      await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
        [database],
      )
    ).map((r) => r.pid);
  const first = await sessions();
  if (first.length === 0) return 0;
  await admin.query(`select pg_terminate_backend(pid) from unnest($1::int[]) as pid`, [first]);
  await until(signal, async () => {
    const left = await sessions();
    if (left.length > 0)
      await admin.query(`select pg_terminate_backend(pid) from unnest($1::int[]) as pid`, [left]);
    return left.length === 0;
  });
  return first.length;
}

/** CREATE DATABASE clone TEMPLATE live; the signal cancels it. */
export async function copyFromTemplate(
  admin: Database,
  live: string,
  clone: string,
  signal: AbortSignal,
): Promise<void> {
  try {
    await admin.query(`create database ${ident(clone)} template ${ident(live)}`, [], { signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : error;
    throw new MaintError(
      'CLONE_TEMPLATE_FAILED',
      ExitCode.rolledBack,
      `CREATE DATABASE ${clone} TEMPLATE ${live} failed: ${(error as Error).message}`,
      { hint: 'A session that reconnected to the live database blocks the copy; the run was rolled back.' },
    );
  }
}

/** Host and port of a PostgreSQL URL (5432 when absent), to tell whether two URLs share a server. */
export function serverOf(url: string): string {
  const u = new URL(url);
  const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname;
  return `${host}:${u.port || '5432'}`;
}
