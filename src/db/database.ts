/**
 * The Database port. Only implementations of this interface talk to a database server;
 * everything else (migrations, journal, checks, analyze) goes through it.
 * Implementations: postgres.ts (`pg`), mysql.ts (`mysql2`), pglite.ts (embedded).
 */

export type Engine = 'postgres' | 'mysql' | 'pglite';
/** SQL dialect: pglite speaks postgres. */
export type Dialect = 'postgres' | 'mysql';

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /** Aborting cancels the statement on the server (pg_cancel_backend / KILL QUERY). */
  signal?: AbortSignal;
}

/**
 * The rows a statement returned. The adapters also set `rowCount` (not enumerable, so the array
 * still compares and prints as its rows): the rows returned, or for INSERT/UPDATE/DELETE the rows
 * written (PostgreSQL's command tag, MySQL's `affectedRows`, PGlite's `affectedRows`).
 */
export type Rows<R> = R[] & { readonly rowCount?: number };

/** Something that runs SQL: the database itself, or one connection inside a transaction. */
export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Rows<R>>;
}

/** Who holds (or asks for) the single-runner lock. */
export interface LockHolder {
  /** Unique id of this holder's session, used by `maint lock release --lock-id`. */
  lockId: string;
  host: string;
  pid: number;
  /** CI job, container task or pod id found in the environment, when any. */
  job?: string;
  /** What it is doing: `migrate`, `run`, … */
  purpose: string;
  since: string;
  lastHeartbeat: string;
  /** How long ago the last heartbeat was, by the server's clock (when known). */
  heartbeatAgeMs?: number;
  /** True when the heartbeat is older than three beats: the holder is frozen or cut off. */
  stale?: boolean;
}

export interface LockSession {
  readonly holder: LockHolder;
  /** Throws LockLostError when the lock connection is gone (checked before each step). */
  verify(): Promise<void>;
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  /** Block until the lock is free; otherwise return null at once when it is held. */
  wait: boolean;
  purpose: string;
  signal?: AbortSignal;
}

export interface AnalyzeOptions {
  /** Only these tables; default: every user table. */
  tables?: string[];
  /** `stages`: coarse statistics first, then finer (postgres); mysql ignores it. */
  mode: 'full' | 'stages';
  /** PostgreSQL: VACUUM ANALYZE rather than ANALYZE. */
  vacuum: boolean;
  signal?: AbortSignal;
}

export interface AnalyzeReport {
  tables: string[];
  stages: Array<{ name: string; durationMs: number }>;
}

export interface Database extends Queryable {
  readonly engine: Engine;
  readonly dialect: Dialect;
  /** Run `fn` in one transaction on one connection; rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Run `fn` on one connection without a transaction, so session settings (lock timeouts) hold
   * for its statements and statements that refuse transactions (CREATE INDEX CONCURRENTLY) work.
   * Optional so fakes need not implement it.
   */
  session?<T>(fn: (conn: Queryable) => Promise<T>): Promise<T>;
  /**
   * Run a multi-statement SQL text as one transaction in a single round trip (PostgreSQL simple
   * protocol); rolled back if any statement fails. Optional: callers fall back to `transaction`.
   */
  script?(sql: string, options?: QueryOptions): Promise<void>;
  /** Name of the current database (used to key server-wide locks). */
  readonly databaseName?: string;
  /** The server's current time, to warn about clock skew. */
  serverTime(): Promise<Date>;
  /** Take the session-scoped single-runner lock named `name` on a dedicated direct connection. */
  acquireLock(name: string, options: AcquireLockOptions): Promise<LockSession | null>;
  /** Who holds the lock `name`, or null when it is free. */
  lockStatus(name: string): Promise<LockHolder | null>;
  /** End a holder's session when its heartbeat is stale; refuses a live holder. */
  releaseLock(name: string, lockId: string): Promise<void>;
  /** Refresh planner statistics (VACUUM ANALYZE / ANALYZE TABLE). */
  analyze(options: AnalyzeOptions): Promise<AnalyzeReport>;
  /** User tables of the current database/schema. */
  listTables(): Promise<string[]>;
  close(): Promise<void>;
}
