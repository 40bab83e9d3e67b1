/**
 * The Database port on PostgreSQL through `pg`. Statements run on a small pool; the single-runner
 * lock lives on its own direct connection with TCP keepalives, so the server frees it as soon as
 * the holder's process or network dies.
 */
import { act, hint } from '../hints.js';
import type { EventEmitter } from 'node:events';
import type pg from 'pg';
import { ExitCode, MaintError } from '../errors.js';
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
import {
  connectionError,
  isConnectionFailure,
  liveHolderError,
  LockLostError,
  lostCreateRace,
  QueryCancelledError,
  QueryError,
  queryError,
  unidentifiedHolderError,
  unknownLockId,
} from './errors.js';
import { lockIdentity, staleAfterMs } from './identity.js';
import { lockUrlRequiredError, poolerReason } from './pooler.js';
import {
  createLockHoldersTableSql,
  LOCK_HOLDERS_TABLE,
  pgAdvisoryKeys,
  PG_LIST_TABLES_SQL,
  PG_SERVER_TIME_SQL,
  postgresAnalyzeStages,
  quoteIdent,
  SCRIPT_BEGIN,
  SCRIPT_END,
} from './sql.js';
import { abortableSleep, runAnalyzeStages, withRowCount, type OpenDatabaseOptions } from './common.js';

const HOLDERS = quoteIdent('postgres', LOCK_HOLDERS_TABLE);

export async function openPostgres(config: DatabaseConfig, options: OpenDatabaseOptions): Promise<Database> {
  const { default: pgModule } = await import('pg');
  // timestamps stay strings: we only pass them through as ISO text
  const pool = new pgModule.Pool({
    connectionString: config.url,
    max: 4,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    application_name: 'maint',
  });
  // An idle client that dies must not crash the process; the next checkout reconnects.
  pool.on('error', () => undefined);

  let databaseName: string;
  let first: pg.PoolClient;
  try {
    first = await pool.connect();
  } catch (error) {
    // Nothing answered as PostgreSQL (refused, closed, silent, another protocol): unreachable.
    await pool.end().catch(() => undefined);
    throw connectionError(error, config.url, 'PostgreSQL');
  }
  try {
    const { rows } = await first.query<{ db: string }>('select current_database() as db');
    databaseName = rows[0]!.db;
  } catch (error) {
    first.release(true);
    await pool.end().catch(() => undefined);
    if (isConnectionFailure(error)) throw connectionError(error, config.url, 'PostgreSQL');
    throw queryError(error, 'select current_database()');
  }
  first.release();
  return new PostgresDatabase(pgModule, pool, config, options, databaseName);
}

class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  readonly dialect = 'postgres' as const;

  constructor(
    private readonly pgModule: typeof pg,
    private readonly pool: pg.Pool,
    private readonly config: DatabaseConfig,
    private readonly options: OpenDatabaseOptions,
    readonly databaseName: string,
  ) {}

  async query<R extends Row = Row>(
    sql: string,
    params: unknown[] = [],
    options: QueryOptions = {},
  ): Promise<R[]> {
    const client = await this.checkout();
    try {
      return await this.run<R>(client, sql, params, options);
    } catch (error) {
      if (lostCreateRace(sql, error)) return [];
      throw error;
    } finally {
      client.release();
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    let broken = false;
    try {
      await this.run(client, 'begin', []);
      const tx: Queryable = { query: (sql, params = [], opts = {}) => this.run(client, sql, params, opts) };
      const result = await fn(tx);
      await this.run(client, 'commit', []);
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async script(sql: string, options: QueryOptions = {}): Promise<void> {
    const client = await this.checkout();
    let broken = false;
    // The server answers each statement of a simple-protocol text with its own CommandComplete
    // before the next one runs, so the count at the error names the statement that failed, even
    // when the error has no position (a constraint violation, a runtime error). No extra trip.
    const connection = (client as unknown as { connection?: EventEmitter }).connection;
    let completed = 0;
    const count = (): void => void completed++;
    connection?.on('commandComplete', count);
    try {
      await this.run(client, `${SCRIPT_BEGIN}${sql}${SCRIPT_END}`, [], options);
    } catch (error) {
      connection?.off('commandComplete', count);
      if (error instanceof QueryError && connection) error.completedStatements = completed;
      // A failed statement leaves the block aborted on this connection: end it before reuse.
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      connection?.off('commandComplete', count);
      client.release(broken);
    }
  }

  async session<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    try {
      return await fn({ query: (sql, params = [], opts = {}) => this.run(client, sql, params, opts) });
    } finally {
      // Session settings must not leak to the next user of this pooled connection.
      await client.query('reset all').catch(() => undefined);
      client.release();
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
    const stages = postgresAnalyzeStages(tables, options.mode, options.vacuum);
    const timed = await this.session((conn) => runAnalyzeStages(conn, stages, options.signal));
    return { tables, stages: timed };
  }

  async acquireLock(name: string, options: AcquireLockOptions): Promise<LockSession | null> {
    const lockUrl = this.config.lockUrl ?? this.config.url;
    const reason = poolerReason(lockUrl);
    if (reason) throw lockUrlRequiredError(reason);
    const client = new this.pgModule.Client({
      connectionString: lockUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1000,
      connectionTimeoutMillis: 10_000,
      application_name: 'maint-lock',
    });
    let lost: unknown;
    client.on('error', (error) => {
      lost ??= error;
    });
    try {
      await client.connect();
    } catch (error) {
      throw connectionError(error, lockUrl, 'PostgreSQL');
    }
    try {
      await this.assertNotPooled(client, lockUrl);
      // Server-side keepalives: a silent peer (cut network, frozen VM) is noticed in ~11 s.
      await client.query(
        'set tcp_keepalives_idle = 5; set tcp_keepalives_interval = 2; set tcp_keepalives_count = 3',
      );
      const [k1, k2] = pgAdvisoryKeys(name);
      const tried = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [
        k1,
        k2,
      ]);
      if (!tried.rows[0]?.ok) {
        if (!options.wait) {
          await client.end().catch(() => undefined);
          return null;
        }
        await this.waitForAdvisoryLock(client, k1, k2, options.signal);
      }
      const identity = lockIdentity(options.purpose);
      const heartbeatMs = this.options.heartbeatMs;
      const createHolders = createLockHoldersTableSql('postgres');
      await client.query(createHolders).catch((error: unknown) => {
        if (!lostCreateRace(createHolders, error)) throw error;
      });
      // Any row left for this name belongs to a dead holder: we hold the lock now.
      await client.query(`delete from ${HOLDERS} where "name" = $1`, [name]);
      const { rows } = await client.query<{ since: Date }>(
        `insert into ${HOLDERS} ("name", "lock_id", "host", "pid", "job", "purpose", "since", "last_heartbeat", "heartbeat_ms", "session_id") ` +
          'values ($1, $2, $3, $4, $5, $6, clock_timestamp(), clock_timestamp(), $7, pg_backend_pid()) returning "since"',
        [
          name,
          identity.lockId,
          identity.host,
          identity.pid,
          identity.job ?? null,
          identity.purpose,
          heartbeatMs,
        ],
      );
      const since = new Date(rows[0]!.since).toISOString();
      const holder: LockHolder = { ...identity, since, lastHeartbeat: since };
      const timer = setInterval(() => {
        client
          .query<{ at: Date }>(
            `update ${HOLDERS} set "last_heartbeat" = clock_timestamp() where "name" = $1 and "lock_id" = $2 returning "last_heartbeat" as at`,
            [name, identity.lockId],
          )
          .then((r) => {
            if (r.rows[0]) holder.lastHeartbeat = new Date(r.rows[0].at).toISOString();
          })
          .catch((error: unknown) => {
            lost ??= error;
          });
      }, heartbeatMs);
      timer.unref();
      let released = false;
      return {
        holder,
        verify: async () => {
          if (released) throw new LockLostError(`The lock "${name}" was already released.`);
          if (lost)
            throw new LockLostError(
              `The lock connection for "${name}" failed; the lock may be held by another runner now.`,
              { cause: lost },
            );
          try {
            const r = await client.query<{ held: boolean }>(
              "select exists (select 1 from pg_locks where locktype = 'advisory' and granted and pid = pg_backend_pid() " +
                'and classid::int8 = $1 and objid::int8 = $2 and objsubid = 2) as held',
              [k1, k2],
            );
            if (!r.rows[0]?.held) throw new LockLostError(`This session no longer holds the lock "${name}".`);
          } catch (error) {
            if (error instanceof LockLostError) throw error;
            throw new LockLostError(
              `The lock connection for "${name}" failed; the lock may be held by another runner now.`,
              { cause: error },
            );
          }
        },
        release: async () => {
          if (released) return;
          released = true;
          clearInterval(timer);
          try {
            await client.query(`delete from ${HOLDERS} where "name" = $1 and "lock_id" = $2`, [
              name,
              identity.lockId,
            ]);
            await client.query('select pg_advisory_unlock($1, $2)', [k1, k2]);
          } catch {
            // Ending the session below frees the lock anyway.
          }
          await client.end().catch(() => undefined);
        },
      };
    } catch (error) {
      await client.end().catch(() => undefined);
      if (error instanceof MaintError) throw error;
      if (isConnectionFailure(error)) throw connectionError(error, lockUrl, 'PostgreSQL');
      throw queryError(error, 'acquire lock');
    }
  }

  async lockStatus(name: string): Promise<LockHolder | null> {
    const sessionId = await this.lockOwnerPid(name);
    if (sessionId === null) return null;
    const row = await this.holderRow(name);
    if (row && Number(row.session_id) === sessionId) return rowToHolder(row);
    // The lock is held but its holder has not written (or lost) its row: report what the server knows.
    const activity = await this.query<{ addr: string | null; started: Date; app: string }>(
      'select host(client_addr) as addr, backend_start as started, application_name as app from pg_stat_activity where pid = $1',
      [sessionId],
    );
    const a = activity[0];
    const since = a ? new Date(a.started).toISOString() : new Date().toISOString();
    return {
      lockId: `session:${sessionId}`,
      host: a?.addr ?? 'unknown',
      pid: 0,
      purpose: a?.app ?? 'unknown',
      since,
      lastHeartbeat: since,
    };
  }

  async releaseLock(name: string, lockId: string): Promise<void> {
    const row = await this.holderRow(name);
    const sessionId = await this.lockOwnerPid(name);
    const target =
      row && row.lock_id === lockId
        ? Number(row.session_id)
        : lockId === `session:${sessionId}`
          ? sessionId
          : null;
    if (target === null) throw unknownLockId(name, lockId);
    if (!(row && row.lock_id === lockId) && sessionId !== null)
      throw unidentifiedHolderError(name, Number(sessionId), `select pg_terminate_backend(${sessionId})`);
    if (sessionId !== target) {
      // The lock is already free (or held by someone else): only the leftover row goes.
      await this.query(`delete from ${HOLDERS} where "name" = $1 and "lock_id" = $2`, [name, lockId]).catch(
        () => undefined,
      );
      return;
    }
    if (row && row.lock_id === lockId) {
      const age = Number(row.age_ms);
      if (age <= staleAfterMs(Number(row.heartbeat_ms))) throw liveHolderError(name, rowToHolder(row));
    }
    await this.query('select pg_terminate_backend($1)', [target]);
    await waitFor(async () => (await this.lockOwnerPid(name)) !== target, 10_000);
    await this.query(`delete from ${HOLDERS} where "name" = $1 and "lock_id" = $2`, [name, lockId]).catch(
      () => undefined,
    );
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async lockOwnerPid(name: string): Promise<number | null> {
    const [k1, k2] = pgAdvisoryKeys(name);
    const rows = await this.query<{ pid: number }>(
      "select pid from pg_locks where locktype = 'advisory' and granted and objsubid = 2 and classid::int8 = $1 and objid::int8 = $2 " +
        'and database = (select oid from pg_database where datname = current_database())',
      [k1, k2],
    );
    return rows[0] ? Number(rows[0].pid) : null;
  }

  private async holderRow(name: string): Promise<HolderRow | undefined> {
    const exists = await this.query<{ t: string | null }>('select to_regclass($1)::text as t', [HOLDERS]);
    if (!exists[0]?.t) return undefined;
    const rows = await this.query<HolderRow>(
      `select *, (extract(epoch from clock_timestamp() - "last_heartbeat") * 1000)::int8 as age_ms from ${HOLDERS} where "name" = $1`,
      [name],
    );
    return rows[0];
  }

  /**
   * Poll with short pg_try_advisory_lock calls rather than block in pg_advisory_lock: a session
   * waiting inside a statement holds a snapshot, and CREATE INDEX CONCURRENTLY (run by the holder)
   * waits for every older snapshot, so blocked waiters would make the holder's migration time out.
   */
  private async waitForAdvisoryLock(
    client: pg.Client,
    k1: number,
    k2: number,
    signal?: AbortSignal,
  ): Promise<void> {
    for (;;) {
      await abortableSleep(50 + Math.random() * 100, signal);
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [
        k1,
        k2,
      ]);
      if (rows[0]?.ok) return;
    }
  }

  /**
   * PgBouncer passes ordinary statements (even `SHOW pool_mode`) through to PostgreSQL, so its
   * answers to SQL look like a direct connection's. Its handshake does not: a pooler hands its
   * client its own cancel key, so the backend process id it announced is not the server process
   * that runs our statements (`pg_backend_pid()`). On a direct connection they are the same, and
   * nothing else is asked (no login to a database that does not exist, nothing in the server's
   * log). Only a pooler is asked its pool mode, on its admin console at the same host and port:
   * it refuses a non-admin ("not allowed", 08P01) or shows an admin its config. Only session
   * pooling keeps a session lock with its holder.
   */
  private async assertNotPooled(client: pg.Client, lockUrl: string): Promise<void> {
    const announced = (client as unknown as { processID: number | null }).processID;
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    if (announced === null || announced === rows[0]?.pid) return;
    const url = new URL(lockUrl);
    url.pathname = '/pgbouncer';
    url.search = '';
    const probe = new this.pgModule.Client({
      connectionString: url.toString(),
      connectionTimeoutMillis: 3000,
    });
    let mode: string | undefined;
    try {
      try {
        await probe.connect();
      } catch (error) {
        mode =
          (error as { code?: string }).code === '08P01'
            ? 'unknown: PgBouncer refused its admin console'
            : 'unknown: a pooler or proxy without a PgBouncer admin console';
      }
      mode ??= await probe
        .query<{ key: string; value: string }>('show config')
        .then(({ rows }) => rows.find((r) => r.key === 'pool_mode')?.value ?? 'unknown')
        .catch(() => 'unknown: its admin console would not show its config');
    } finally {
      await probe.end().catch(() => undefined);
    }
    if (mode !== 'session')
      throw lockUrlRequiredError(
        `the server at ${url.host} is a pooler (PgBouncer or a proxy), pool mode ${mode}`,
      );
  }

  private readonly prepared = new WeakSet<pg.PoolClient>();

  private async checkout(): Promise<pg.PoolClient> {
    try {
      const client = await this.pool.connect();
      if (!this.prepared.has(client)) {
        this.prepared.add(client);
        // PostgreSQL 14+: a statement notices within a second that its client died (SIGKILL of
        // maint) and rolls back, instead of holding its locks until it ends. Older servers lack it.
        await client.query('set client_connection_check_interval = 1000').catch(() => undefined);
      }
      return client;
    } catch (error) {
      // The pool only fails a checkout when a new connection could not be made.
      throw connectionError(error, this.config.url, 'PostgreSQL');
    }
  }

  private async run<R extends Row>(
    client: pg.ClientBase,
    sql: string,
    params: unknown[],
    options: QueryOptions = {},
  ): Promise<R[]> {
    const { signal } = options;
    if (signal?.aborted)
      throw new QueryCancelledError('The statement was cancelled before it started.', {
        cause: signal.reason,
      });
    const pid = (client as unknown as { processID: number | null }).processID;
    const onAbort = (): void => {
      // Cancel on the server from another connection: the statement stops, not just our wait.
      if (pid !== null) void this.cancelBackend(pid);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await client.query<R>(sql, params);
      // Multi-statement text returns one result per statement; the last is the useful one.
      const last = Array.isArray(result) ? (result[result.length - 1] as pg.QueryResult<R>) : result;
      return withRowCount(last?.rows ?? [], last?.rowCount);
    } catch (error) {
      if (signal?.aborted)
        throw new QueryCancelledError('The statement was cancelled on the server.', { cause: error });
      if (isConnectionFailure(error)) throw connectionError(error, this.config.url, 'PostgreSQL');
      throw queryError(error, sql);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async cancelBackend(pid: number): Promise<void> {
    const client = new this.pgModule.Client({
      connectionString: this.config.url,
      connectionTimeoutMillis: 5000,
    });
    try {
      await client.connect();
      await client.query('select pg_cancel_backend($1)', [pid]);
    } catch {
      // Best effort: if the server is unreachable the statement's own connection fails too.
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

interface HolderRow extends Row {
  name: string;
  lock_id: string;
  host: string;
  pid: number;
  job: string | null;
  purpose: string;
  since: Date | string;
  last_heartbeat: Date | string;
  heartbeat_ms: number;
  session_id: number | string;
  age_ms: number | string;
}

export function rowToHolder(row: HolderRow): LockHolder {
  const age = Number(row.age_ms);
  return {
    lockId: row.lock_id,
    host: row.host,
    pid: Number(row.pid),
    ...(row.job ? { job: row.job } : {}),
    purpose: row.purpose,
    since: new Date(row.since).toISOString(),
    lastHeartbeat: new Date(row.last_heartbeat).toISOString(),
    heartbeatAgeMs: age,
    stale: age > staleAfterMs(Number(row.heartbeat_ms)),
  };
}

export type { HolderRow };

export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await abortableSleep(100);
  }
  throw new MaintError(
    'LOCK_RELEASE_TIMEOUT',
    ExitCode.operatorAction,
    "The holder's session was ended but the lock is still held.",
    {
      hint: hint('Check the server with {lock}; the session may be stuck in the kernel.', {
        lock: act('lock'),
      }),
    },
  );
}
