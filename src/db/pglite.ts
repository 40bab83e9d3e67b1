/**
 * The Database port on PGlite (embedded PostgreSQL in WebAssembly), for demos and local use.
 * `url` is a data folder relative to the plan, or `memory://`. The engine is opened lazily on
 * the first statement, so `maint lock` can read the lock file while another process migrates.
 */
import { act, hint } from '../hints.js';
import type { PGlite } from '@electric-sql/pglite';
import path from 'node:path';
import type { DatabaseConfig } from '../plan/schema.js';
import type {
  AcquireLockOptions,
  AnalyzeOptions,
  AnalyzeReport,
  Database,
  LockHolder,
  LockSession,
  QueryOptions,
  Queryable,
  Row,
} from './database.js';
import { abortableSleep, runAnalyzeStages, withRowCount, type OpenDatabaseOptions } from './common.js';
import { liveHolderError, QueryCancelledError, queryError, unknownLockId } from './errors.js';
import { acquireFileLock, fileLockStatus, folderOwner, releaseFileLock } from './file-lock.js';
import { ExitCode, MaintError } from '../errors.js';
import { PG_LIST_TABLES_SQL, PG_SERVER_TIME_SQL, postgresAnalyzeStages } from './sql.js';

export async function openPglite(
  config: DatabaseConfig,
  planDir: string,
  options: OpenDatabaseOptions,
): Promise<Database> {
  const memory = config.url === 'memory://' || config.url === 'memory';
  const dataDir = memory ? null : path.resolve(planDir, config.url.replace(/^file:\/\//, ''));
  return new PgliteDatabase(dataDir, options);
}

/** In-memory databases live and die with this process, so an in-process lock suffices. */
const memoryLocks = new Map<string, LockHolder>();

class PgliteDatabase implements Database {
  readonly engine = 'pglite' as const;
  readonly dialect = 'postgres' as const;
  readonly databaseName = 'postgres';
  private db: Promise<PGlite> | undefined;

  constructor(
    private readonly dataDir: string | null,
    private readonly options: OpenDatabaseOptions,
  ) {}

  private open(): Promise<PGlite> {
    this.db ??= (async () => {
      if (this.dataDir) {
        // PGlite has no server: two processes in one data folder would corrupt it.
        const owner = await folderOwner(this.dataDir);
        if (owner) {
          throw new MaintError(
            'PGLITE_IN_USE',
            ExitCode.lockHeld,
            `The PGlite data folder ${this.dataDir} is in use by ${owner.host} pid ${owner.pid} (${owner.purpose} since ${owner.since}).`,
            {
              hint: hint(
                'PGlite allows one process per data folder: wait for it ({migrate}), or see {lock}.',
                { migrate: act('migrate', undefined, { wait: true }), lock: act('lock') },
              ),
              details: { holder: owner },
            },
          );
        }
      }
      const { PGlite } = await import('@electric-sql/pglite');
      const db = new PGlite(this.dataDir ?? 'memory://');
      await db.waitReady;
      return db;
    })();
    return this.db;
  }

  async query<R extends Row = Row>(
    sql: string,
    params: unknown[] = [],
    options: QueryOptions = {},
  ): Promise<R[]> {
    return run<R>(await this.open(), sql, params, options);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const db = await this.open();
    return db.transaction((tx) => fn({ query: (sql, params = [], opts = {}) => run(tx, sql, params, opts) }));
  }

  async session<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    const db = await this.open();
    try {
      return await fn({ query: (sql, params = [], opts = {}) => run(db, sql, params, opts) });
    } finally {
      await db.exec('reset all').catch(() => undefined);
    }
  }

  async serverTime(): Promise<Date> {
    const rows = await this.query<{ now: Date }>(PG_SERVER_TIME_SQL);
    return new Date(rows[0]!.now);
  }

  async listTables(): Promise<string[]> {
    const rows = await this.query<{ name: string }>(PG_LIST_TABLES_SQL);
    return rows.map((r) => r.name);
  }

  async analyze(options: AnalyzeOptions): Promise<AnalyzeReport> {
    const tables = options.tables ?? (await this.listTables());
    if (tables.length === 0) return { tables, stages: [] };
    // PGlite has a single connection, so the stages run on the database itself.
    const stages = await runAnalyzeStages(
      this,
      postgresAnalyzeStages(tables, options.mode, options.vacuum),
      options.signal,
    );
    await this.query('reset default_statistics_target');
    return { tables, stages };
  }

  async acquireLock(name: string, options: AcquireLockOptions): Promise<LockSession | null> {
    if (this.dataDir) return acquireFileLock(this.dataDir, name, options, this.options.heartbeatMs);
    for (;;) {
      if (!memoryLocks.has(name)) break;
      if (!options.wait) return null;
      await abortableSleep(100, options.signal);
    }
    const now = new Date().toISOString();
    const { lockIdentity } = await import('./identity.js');
    const holder: LockHolder = { ...lockIdentity(options.purpose), since: now, lastHeartbeat: now };
    memoryLocks.set(name, holder);
    return {
      holder,
      verify: async () => undefined,
      release: async () => {
        if (memoryLocks.get(name) === holder) memoryLocks.delete(name);
      },
    };
  }

  async lockStatus(name: string): Promise<LockHolder | null> {
    if (this.dataDir) return fileLockStatus(this.dataDir, name);
    return memoryLocks.get(name) ?? null;
  }

  async releaseLock(name: string, lockId: string): Promise<void> {
    if (this.dataDir) return releaseFileLock(this.dataDir, name, lockId);
    const holder = memoryLocks.get(name);
    if (!holder || holder.lockId !== lockId) throw unknownLockId(name, lockId);
    throw liveHolderError(name, holder);
  }

  async close(): Promise<void> {
    if (this.db) await (await this.db).close().catch(() => undefined);
  }
}

interface PgliteQueryable {
  query<T>(sql: string, params?: unknown[]): Promise<PgliteResult<T>>;
  exec(sql: string): Promise<Array<PgliteResult<unknown>>>;
}

interface PgliteResult<T> {
  rows: T[];
  affectedRows?: number;
  fields: unknown[];
}

async function run<R extends Row>(
  db: PgliteQueryable,
  sql: string,
  params: unknown[],
  options: QueryOptions,
): Promise<R[]> {
  // PGlite runs in this thread: a statement cannot be interrupted, only not started.
  if (options.signal?.aborted)
    throw new QueryCancelledError('The statement was cancelled before it started.', {
      cause: options.signal.reason,
    });
  try {
    // Without parameters, the simple protocol also accepts several statements (migration files).
    const last = params.length > 0 ? await db.query<R>(sql, params) : (await db.exec(sql)).at(-1);
    const rows = (last?.rows ?? []) as R[];
    // PGlite counts 0 affected rows for a SELECT: a statement that returns columns counts its rows.
    return withRowCount(rows, last && last.fields.length > 0 ? rows.length : last?.affectedRows);
  } catch (error) {
    throw queryError(error, sql);
  }
}
