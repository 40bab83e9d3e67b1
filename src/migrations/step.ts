/**
 * One migration run in one direction, as the dialect executors see it: its database, file and
 * records, the lock-timeout retry every attempt goes through, and sessions with a lock timeout.
 */
import type { Database, QueryOptions, Queryable } from '../db/database.js';
import type { Logger } from '../support/logger.js';
import type { MigrationsConfig } from '../plan/schema.js';
import type { Direction } from './direction.js';
import { lockTimeoutSql } from './exec-sql.js';
import { migrationFailure } from './failure.js';
import type { MigrationFile } from './files.js';
import type { UpOptions } from './migrator.js';
import { isLockTimeout, retryMigrationStep } from './retry.js';
import { findBlockers, type Blocker } from './blockers.js';
import type { SqlStatement, StateSql } from './state-sql.js';

/** How one dialect runs migrations. Registered in executors.ts. */
export interface Executor {
  /**
   * A module's up() or down(), given the connection to pass it. `transactional`: the module did
   * not export `transaction = false`.
   */
  module(
    step: MigrationStep,
    run: (db: Queryable) => Promise<unknown>,
    transactional: boolean,
  ): Promise<void>;
  /** The statements of a SQL file. */
  sql(step: MigrationStep, statements: string[]): Promise<void>;
}

export function execute(q: Queryable, statement: SqlStatement, options?: QueryOptions): Promise<unknown> {
  return q.query(statement.sql, statement.params, options);
}

export class MigrationStep {
  private readonly started = performance.now();
  /** The SQL text the statements were split from, so a failure can name its line. */
  source: string | undefined;
  /** Which of the statements was running when it failed (0-based index), when the executor knows. */
  failedAt: { index: number; statements: readonly string[] } | undefined;
  /** Carries the abort signal to the migration's own statements. */
  readonly queryOptions: QueryOptions;

  constructor(
    readonly db: Database,
    readonly config: MigrationsConfig,
    readonly state: StateSql,
    readonly file: MigrationFile,
    readonly direction: Direction,
    readonly options: UpOptions,
    readonly logger: Logger | undefined,
  ) {
    this.queryOptions = options.signal ? { signal: options.signal } : {};
  }

  /** Milliseconds since the migration started (loading its file included). */
  elapsed(): number {
    return Math.round(performance.now() - this.started);
  }

  /** The record that marks the migration applied (or reverted), with the duration so far. */
  record(): SqlStatement {
    return this.direction.record(this.state, this.file, this.elapsed());
  }

  /**
   * Runs `fn`, again after each lock timeout (retry.ts), and turns a final failure into the
   * migration's MaintError. `statement`: what the failure names (read when it happens);
   * `atomic`: whether the failure left nothing behind.
   */
  async attempt(
    statement: string | (() => string),
    atomic: boolean,
    fn: () => Promise<unknown>,
  ): Promise<void> {
    // Who held the lock at the last timeout, looked up once the statement has given up.
    let blockers: Blocker[] | undefined;
    const once = async (): Promise<unknown> => {
      try {
        return await fn();
      } catch (error) {
        if (isLockTimeout(this.db.dialect, error))
          blockers = await findBlockers(this.db, this.config.lockTimeout);
        throw error;
      }
    };
    try {
      await retryMigrationStep(once, {
        dialect: this.db.dialect,
        name: this.file.name,
        lockTimeoutMs: this.config.lockTimeout,
        retries: this.config.retries,
        blockers: () => blockers,
        ...(this.options.signal ? { signal: this.options.signal } : {}),
        ...(this.options.onProgress ? { onProgress: this.options.onProgress } : {}),
      });
    } catch (error) {
      const label = typeof statement === 'function' ? statement() : statement;
      throw migrationFailure(
        error,
        this.file,
        label,
        this.config.lockTimeout,
        atomic,
        this.source,
        this.failedAt,
        blockers,
      );
    }
  }

  /**
   * `fn` on one connection outside a transaction (the database itself when the adapter has no
   * sessions), after setting the session lock timeout unless `lockTimeout` is false.
   */
  session<T>(fn: (conn: Queryable) => Promise<T>, lockTimeout = true): Promise<T> {
    const body = async (conn: Queryable): Promise<T> => {
      if (lockTimeout) await this.setLockTimeout(conn, false);
      return fn(conn);
    };
    return this.db.session ? this.db.session(body) : body(this.db);
  }

  /** `local`: for the current transaction only (PostgreSQL `set local`). */
  async setLockTimeout(conn: Queryable, local: boolean): Promise<void> {
    for (const s of lockTimeoutSql(this.db.dialect, this.config.lockTimeout, local)) await execute(conn, s);
  }
}
