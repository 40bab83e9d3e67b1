/**
 * Driver errors become MaintErrors here, redacted, with the driver error kept as `cause`.
 * Classification uses the driver's codes (SQLSTATE, errno, Node's network codes), never messages.
 */
import { act, hint } from '../hints.js';
import {
  ConnectionError,
  ExitCode,
  InputError,
  MaintError,
  OperatorActionError,
  type MaintErrorOptions,
} from '../errors.js';
import type { LockHolder } from './database.js';
import { redact } from '../support/redact.js';

/** A statement failed on the server. `sqlState`/`errno` say why; callers decide what it means. */
export class QueryError extends MaintError {
  readonly sqlState: string | undefined;
  readonly errno: number | undefined;
  /**
   * For a multi-statement text (`Database.script`): how many of its statements the server had
   * completed before this one failed, when the adapter can tell; the failing one is the next.
   */
  completedStatements: number | undefined;
  constructor(message: string, options: MaintErrorOptions & { sqlState?: string; errno?: number } = {}) {
    super('DB_QUERY_FAILED', ExitCode.internal, message, {
      ...options,
      hint:
        options.hint ??
        hint('Check the statement and the database, then re-run; {status} shows what was applied.', {
          status: act('migrate status'),
        }),
      details: { ...options.details, sqlState: options.sqlState, errno: options.errno },
    });
    this.sqlState = options.sqlState;
    this.errno = options.errno;
  }

  override get isUserError(): boolean {
    // A failing statement is the user's SQL or server, not a bug in maint.
    return true;
  }
}

/** The lock connection is gone or no longer holds the lock: another runner may be acting. */
export class LockLostError extends OperatorActionError {
  constructor(message: string, options: MaintErrorOptions = {}) {
    super('LOCK_LOST', message, {
      hint: hint('Another runner may now hold the lock. Check with {lock} and {status} before re-running.', {
        lock: act('lock'),
        status: act('migrate status'),
      }),
      ...options,
    });
  }
}

/** The statement was cancelled because its AbortSignal fired. */
export class QueryCancelledError extends MaintError {
  constructor(message: string, options: MaintErrorOptions = {}) {
    super('DB_QUERY_CANCELLED', ExitCode.rolledBack, message, options);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
]);

interface DriverErrorShape {
  code?: string;
  errno?: number;
  sqlState?: string;
  message?: string;
}

/** Where a URL points, without its secrets, for messages. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? ':' + u.port : ''}${u.pathname}`;
  } catch {
    return redact(url);
  }
}

/** True when the error says the server could not be reached or refused us. */
export function isConnectionFailure(error: unknown): boolean {
  const e = error as DriverErrorShape;
  if (e?.code && NETWORK_CODES.has(e.code)) return true;
  // postgres: 28xxx auth, 3D000 unknown database, 08xxx connection exceptions, 57P03 starting up
  if (e?.code && /^(28|08)/.test(e.code)) return true;
  if (e?.code === '3D000' || e?.code === '57P03') return true;
  // mysql: access denied, unknown database, too many connections, host blocked
  if (e?.errno !== undefined && [1044, 1045, 1049, 1040, 1129, 1130, 2002, 2003, 2005].includes(e.errno))
    return true;
  if (e?.code === 'PROTOCOL_CONNECTION_LOST') return true;
  return false;
}

/** `host:port` of a URL (the engine's default port when it names none), for hints. */
export function hostPort(url: string, engine: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (engine === 'MySQL' ? '3306' : '5432');
    return `${u.hostname}:${port}`;
  } catch {
    return 'the host and port in `database.url`';
  }
}

/**
 * Any failure before the server has answered as the engine (refused, closed at once, silent
 * until the connect timeout, or not speaking the protocol) is the same for the user: the URL
 * does not reach that engine. The hint names host:port, never the password.
 */
export function connectionError(error: unknown, url: string, engine: string): ConnectionError {
  const e = error as DriverErrorShape;
  const what = describeTarget(url);
  const reason = redact(e?.message ?? String(error));
  return new ConnectionError(
    'DB_UNREACHABLE',
    `Cannot connect to the ${engine} database at ${what}: ${reason}`,
    {
      hint: hint(
        `Check that a ${engine} server answers at ${hostPort(url, engine)} and that \`database.url\` in the plan (host, port, user, password, database) is right, then try {status}.`,
        { status: act('migrate status') },
      ),
      cause: error,
    },
  );
}

/** Wrap a driver error from a statement. */
export function queryError(error: unknown, sql: string): MaintError {
  if (error instanceof MaintError) return error;
  const e = error as DriverErrorShape;
  const first = sql.trim().split('\n')[0]!.slice(0, 120);
  const sqlState =
    e?.sqlState ?? (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined);
  return new QueryError(redact(`${e?.message ?? String(error)} (in: ${first})`), {
    cause: error,
    ...(sqlState ? { sqlState } : {}),
    ...(typeof e?.errno === 'number' ? { errno: e.errno } : {}),
  });
}

/**
 * PostgreSQL's `create table if not exists` is not safe against itself: two sessions creating the
 * same missing table at once (two plans' first locks, a plan and its agent, two first journals)
 * fail the loser with 23505 on pg_type, 42710 (type exists) or 42P07 (relation exists). By then the winner's table is committed (the
 * unique check waited for it), so the loser has what it asked for. Only for autocommit statements:
 * inside a transaction the error has already aborted it.
 */
export function lostCreateRace(sql: string, error: unknown): boolean {
  if (!/^\s*create\s+(table|index|sequence)\s+if\s+not\s+exists\b/i.test(sql)) return false;
  const e = (error instanceof MaintError ? error.cause : error) as { code?: unknown; constraint?: unknown };
  if (e?.code === '42P07' || e?.code === '42710') return true;
  return (
    e?.code === '23505' &&
    (e.constraint === 'pg_type_typname_nsp_index' || e.constraint === 'pg_class_relname_nsp_index')
  );
}

export function unknownLockId(name: string, lockId: string): InputError {
  return new InputError('LOCK_ID_UNKNOWN', `No holder of the lock "${name}" has the lock id ${lockId}.`, [], {
    hint: hint('See the current holder and its lock id with {lock}.', { lock: act('lock') }),
  });
}

/**
 * The lock is held by a session that recorded no identity or heartbeat (a holder in its first
 * milliseconds, or something other than maint): nothing proves it dead, so maint will not end it.
 */
export function unidentifiedHolderError(name: string, sessionId: number, killSql: string): MaintError {
  return new MaintError(
    'LOCK_HOLDER_UNIDENTIFIED',
    ExitCode.lockHeld,
    `Refusing to release the lock "${name}": database session ${sessionId} holds it but recorded no heartbeat, so nothing proves it dead.`,
    {
      hint: hint(
        `Run {lock} again in a moment (a new holder records itself at once); if that session is not maint's and must go, end it yourself with \`${killSql}\`.`,
        { lock: act('lock') },
      ),
      details: { sessionId },
    },
  );
}

export function liveHolderError(name: string, holder: LockHolder): MaintError {
  const who = `${holder.host} pid ${holder.pid}${holder.job ? ` (${holder.job})` : ''}`;
  return new MaintError(
    'LOCK_HOLDER_ALIVE',
    ExitCode.lockHeld,
    `Refusing to release the lock "${name}": its holder ${who} is alive (last heartbeat ${Math.round((holder.heartbeatAgeMs ?? 0) / 1000)} s ago).`,
    {
      hint: hint(
        'Wait for it to finish ({migrate}), or stop that process; release only works once its heartbeat is stale.',
        { migrate: act('migrate', undefined, { wait: true }) },
      ),
      details: { holder },
    },
  );
}
