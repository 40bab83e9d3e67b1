/**
 * The Database port on MySQL and MariaDB through `mysql2`. The single-runner lock is GET_LOCK on
 * its own connection (with TCP keepalive), freed by the server when that connection dies.
 * GET_LOCK names are server-wide, so the database name is part of the lock name.
 */
import type { Pool, PoolConnection, Connection } from 'mysql2/promise';
import { MaintError } from '../errors.js';
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
import { abortableSleep, withRowCount, type OpenDatabaseOptions } from './common.js';
import {
  connectionError,
  isConnectionFailure,
  liveHolderError,
  LockLostError,
  QueryCancelledError,
  queryError,
  unidentifiedHolderError,
  unknownLockId,
} from './errors.js';
import { lockIdentity, staleAfterMs } from './identity.js';
import { lockUrlRequiredError, poolerReason } from './pooler.js';
import {
  createLockHoldersTableSql,
  LOCK_HOLDERS_TABLE,
  mysqlAnalyzeSql,
  mysqlLockName,
  quoteIdent,
} from './sql.js';

const HOLDERS = quoteIdent('mysql', LOCK_HOLDERS_TABLE);

type MysqlModule = typeof import('mysql2/promise');

function connectionOptions(url: string): {
  uri: string;
  enableKeepAlive: true;
  keepAliveInitialDelay: number;
  connectTimeout: number;
  dateStrings: false;
  multipleStatements: false;
  timezone: 'Z';
} {
  return {
    uri: url,
    enableKeepAlive: true,
    keepAliveInitialDelay: 1000,
    connectTimeout: 10_000,
    dateStrings: false,
    multipleStatements: false,
    timezone: 'Z',
  };
}

export async function openMysql(config: DatabaseConfig, options: OpenDatabaseOptions): Promise<Database> {
  const mysql = await import('mysql2/promise');
  const pool = mysql.createPool({ ...connectionOptions(config.url), connectionLimit: 4 });
  // Idle connections that die must not crash the process.
  pool.on('connection', (conn) => conn.on('error', () => undefined));
  let databaseName: string;
  let first: PoolConnection;
  try {
    first = await pool.getConnection();
  } catch (error) {
    // Nothing answered as MySQL (refused, closed, silent, another protocol): unreachable.
    await pool.end().catch(() => undefined);
    throw connectionError(error, config.url, 'MySQL');
  }
  try {
    const [rows] = await first.query('select database() as db');
    databaseName = String((rows as Array<{ db: string | null }>)[0]?.db ?? '');
  } catch (error) {
    first.release();
    await pool.end().catch(() => undefined);
    if (isConnectionFailure(error)) throw connectionError(error, config.url, 'MySQL');
    throw queryError(error, 'select database()');
  }
  first.release();
  if (!databaseName) {
    await pool.end().catch(() => undefined);
    throw connectionError(new Error('the URL names no database'), config.url, 'MySQL');
  }
  return new MysqlDatabase(mysql, pool, config, options, databaseName);
}

interface HolderRow extends Row {
  name: string;
  lock_id: string;
  host: string;
  pid: number;
  job: string | null;
  purpose: string;
  since: Date;
  last_heartbeat: Date;
  heartbeat_ms: number;
  session_id: number | string;
  age_ms: number | string;
}

class MysqlDatabase implements Database {
  readonly engine = 'mysql' as const;
  readonly dialect = 'mysql' as const;

  constructor(
    private readonly mysql: MysqlModule,
    private readonly pool: Pool,
    private readonly config: DatabaseConfig,
    private readonly options: OpenDatabaseOptions,
    readonly databaseName: string,
  ) {}

  async query<R extends Row = Row>(
    sql: string,
    params: unknown[] = [],
    options: QueryOptions = {},
  ): Promise<R[]> {
    const conn = await this.checkout();
    try {
      return await this.run<R>(conn, sql, params, options);
    } finally {
      conn.release();
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const conn = await this.checkout();
    try {
      await this.run(conn, 'start transaction', []);
      const result = await fn({ query: (sql, params = [], opts = {}) => this.run(conn, sql, params, opts) });
      await this.run(conn, 'commit', []);
      return result;
    } catch (error) {
      await conn.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      conn.release();
    }
  }

  async session<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    const conn = await this.checkout();
    let clean = false;
    try {
      const result = await fn({ query: (sql, params = [], opts = {}) => this.run(conn, sql, params, opts) });
      // What the session set (lock_wait_timeout, user variables, an open transaction, temporary
      // tables) must not leak into the pool: COM_CHANGE_USER resets all of it on the same
      // connection, far cheaper than a new one (a migration run opens one session per migration).
      await conn.changeUser({});
      clean = true;
      return result;
    } finally {
      if (clean) conn.release();
      else conn.destroy();
    }
  }

  async serverTime(): Promise<Date> {
    const rows = await this.query<{ now: Date }>('select utc_timestamp(3) as now');
    return new Date(rows[0]!.now);
  }

  async listTables(): Promise<string[]> {
    const rows = await this.query<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE' order by 1",
    );
    return rows.map((r) => r.name);
  }

  async analyze(options: AnalyzeOptions): Promise<AnalyzeReport> {
    const tables = options.tables ?? (await this.listTables());
    if (tables.length === 0) return { tables, stages: [] };
    const started = performance.now();
    await this.query(mysqlAnalyzeSql(tables), [], options.signal ? { signal: options.signal } : {});
    return {
      tables,
      stages: [{ name: 'analyze table', durationMs: Math.round(performance.now() - started) }],
    };
  }

  async acquireLock(name: string, options: AcquireLockOptions): Promise<LockSession | null> {
    const lockUrl = this.config.lockUrl ?? this.config.url;
    const reason = poolerReason(lockUrl);
    if (reason) throw lockUrlRequiredError(reason);
    let conn: Connection;
    try {
      conn = await this.mysql.createConnection(connectionOptions(lockUrl));
    } catch (error) {
      throw connectionError(error, lockUrl, 'MySQL');
    }
    let lost: unknown;
    conn.on('error', (error: unknown) => {
      lost ??= error;
    });
    const lockName = mysqlLockName(this.databaseName, name);
    try {
      for (;;) {
        // Waiting inside GET_LOCK is granted the moment the holder lets go; one-second slices keep it abortable.
        const [rows] = await conn.query('select get_lock(?, ?) as ok', [lockName, options.wait ? 1 : 0]);
        if (Number((rows as Array<{ ok: number | null }>)[0]?.ok) === 1) break;
        if (!options.wait) {
          await conn.end().catch(() => undefined);
          return null;
        }
        if (options.signal?.aborted) throw options.signal.reason;
      }
      const identity = lockIdentity(options.purpose);
      const heartbeatMs = this.options.heartbeatMs;
      await conn.query(createLockHoldersTableSql('mysql'));
      await conn.query(`delete from ${HOLDERS} where \`name\` = ?`, [name]);
      await conn.query(
        `insert into ${HOLDERS} (\`name\`, \`lock_id\`, \`host\`, \`pid\`, \`job\`, \`purpose\`, \`since\`, \`last_heartbeat\`, \`heartbeat_ms\`, \`session_id\`) ` +
          'values (?, ?, ?, ?, ?, ?, utc_timestamp(3), utc_timestamp(3), ?, connection_id())',
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
      const now = new Date().toISOString();
      const holder: LockHolder = { ...identity, since: now, lastHeartbeat: now };
      const timer = setInterval(() => {
        conn
          .query(
            `update ${HOLDERS} set \`last_heartbeat\` = utc_timestamp(3) where \`name\` = ? and \`lock_id\` = ?`,
            [name, identity.lockId],
          )
          .then(() => {
            holder.lastHeartbeat = new Date().toISOString();
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
            const [rows] = await conn.query('select is_used_lock(?) = connection_id() as held', [lockName]);
            if (Number((rows as Array<{ held: number | null }>)[0]?.held) !== 1)
              throw new LockLostError(`This session no longer holds the lock "${name}".`);
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
            await conn.query(`delete from ${HOLDERS} where \`name\` = ? and \`lock_id\` = ?`, [
              name,
              identity.lockId,
            ]);
            await conn.query('select release_lock(?)', [lockName]);
          } catch {
            // Closing the connection below frees the lock anyway.
          }
          await conn.end().catch(() => conn.destroy());
        },
      };
    } catch (error) {
      conn.destroy();
      if (error instanceof MaintError) throw error;
      if (isConnectionFailure(error)) throw connectionError(error, lockUrl, 'MySQL');
      throw queryError(error, 'acquire lock');
    }
  }

  async lockStatus(name: string): Promise<LockHolder | null> {
    const sessionId = await this.lockOwner(name);
    if (sessionId === null) return null;
    const row = await this.holderRow(name);
    if (row && Number(row.session_id) === sessionId) return rowToHolder(row);
    const rows = await this.query<{ host: string | null }>(
      'select host from information_schema.processlist where id = ?',
      [sessionId],
    );
    const now = new Date().toISOString();
    return {
      lockId: `session:${sessionId}`,
      host: rows[0]?.host ?? 'unknown',
      pid: 0,
      purpose: 'unknown',
      since: now,
      lastHeartbeat: now,
    };
  }

  async releaseLock(name: string, lockId: string): Promise<void> {
    const row = await this.holderRow(name);
    const sessionId = await this.lockOwner(name);
    const target =
      row && row.lock_id === lockId
        ? Number(row.session_id)
        : lockId === `session:${sessionId}`
          ? sessionId
          : null;
    if (target === null) throw unknownLockId(name, lockId);
    if (!(row && row.lock_id === lockId) && sessionId !== null)
      throw unidentifiedHolderError(name, Number(sessionId), `KILL ${sessionId}`);
    if (sessionId !== target) {
      await this.query(`delete from ${HOLDERS} where \`name\` = ? and \`lock_id\` = ?`, [name, lockId]).catch(
        () => undefined,
      );
      return;
    }
    if (row && row.lock_id === lockId && Number(row.age_ms) <= staleAfterMs(Number(row.heartbeat_ms))) {
      throw liveHolderError(name, rowToHolder(row));
    }
    await this.query(`kill connection ${Number(target)}`);
    const deadline = Date.now() + 10_000;
    while ((await this.lockOwner(name)) === target) {
      if (Date.now() > deadline) break;
      await abortableSleep(100);
    }
    await this.query(`delete from ${HOLDERS} where \`name\` = ? and \`lock_id\` = ?`, [name, lockId]).catch(
      () => undefined,
    );
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async lockOwner(name: string): Promise<number | null> {
    const rows = await this.query<{ id: number | null }>('select is_used_lock(?) as id', [
      mysqlLockName(this.databaseName, name),
    ]);
    const id = rows[0]?.id;
    return id === null || id === undefined ? null : Number(id);
  }

  private async holderRow(name: string): Promise<HolderRow | undefined> {
    const exists = await this.query<{ n: number }>(
      'select count(*) as n from information_schema.tables where table_schema = database() and table_name = ?',
      [LOCK_HOLDERS_TABLE],
    );
    if (Number(exists[0]?.n) === 0) return undefined;
    const rows = await this.query<HolderRow>(
      `select *, timestampdiff(microsecond, \`last_heartbeat\`, utc_timestamp(3)) div 1000 as age_ms from ${HOLDERS} where \`name\` = ?`,
      [name],
    );
    return rows[0];
  }

  private async checkout(): Promise<PoolConnection> {
    try {
      return await this.pool.getConnection();
    } catch (error) {
      // The pool only fails a checkout when a new connection could not be made.
      throw connectionError(error, this.config.url, 'MySQL');
    }
  }

  private async run<R extends Row>(
    conn: PoolConnection,
    sql: string,
    params: unknown[],
    options: QueryOptions = {},
  ): Promise<R[]> {
    const { signal } = options;
    if (signal?.aborted)
      throw new QueryCancelledError('The statement was cancelled before it started.', {
        cause: signal.reason,
      });
    const threadId = conn.threadId;
    const onAbort = (): void => {
      void this.killQuery(threadId);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Without parameters use the text protocol: DDL and many statements refuse prepared execution.
      const [rows] = params.length > 0 ? await conn.query(sql, params) : await conn.query(sql);
      // INSERT/UPDATE/DELETE answer a header: affectedRows counts the rows matched (mysql2 asks
      // with FOUND_ROWS), not only those whose value changed.
      if (!Array.isArray(rows)) return withRowCount<R>([], (rows as { affectedRows?: number }).affectedRows);
      return withRowCount(rows as R[], rows.length);
    } catch (error) {
      if (signal?.aborted)
        throw new QueryCancelledError('The statement was cancelled on the server.', { cause: error });
      if (isConnectionFailure(error)) throw connectionError(error, this.config.url, 'MySQL');
      throw queryError(error, sql);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async killQuery(threadId: number): Promise<void> {
    try {
      const conn = await this.mysql.createConnection(connectionOptions(this.config.url));
      await conn.query(`kill query ${Number(threadId)}`).catch(() => undefined);
      await conn.end();
    } catch {
      // Best effort: an unreachable server fails the statement's own connection too.
    }
  }
}

function rowToHolder(row: HolderRow): LockHolder {
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
