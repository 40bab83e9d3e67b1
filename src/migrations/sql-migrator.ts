/**
 * The Migrator on a Database, run by umzug. Each migration records itself: on PostgreSQL a
 * transactional migration and its record commit together; a non-transactional one (and every
 * MySQL migration, whose DDL commits implicitly) is journaled as `running` with a per-statement
 * progress counter, so a crash resumes at the statement that did not finish. Every statement
 * runs under a short lock timeout and is retried with backoff, so live queries never queue
 * behind DDL for longer than that timeout.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database, QueryOptions, Queryable } from '../db/database.js';
import { InputError } from '../errors.js';
import type { Logger } from '../output/logger.js';
import type { MigrationsConfig } from '../plan/schema.js';
import { listMigrationFiles, prefixChecksum, type MigrationFile } from './files.js';
import { migrationFailure, partialFailure, unwrap } from './failure.js';
import { loadModule } from './module.js';
import type { AppliedMigration, DownOptions, MigrationInfo, Migrator, UpOptions } from './migrator.js';
import { retryMigrationStep } from './retry.js';
import { concurrentIndexName, splitStatements } from './split.js';
import {
  dropIndexConcurrentlySql,
  findInvalidIndexSql,
  lockTimeoutSql,
  mysqlCommitSql,
  mysqlStartTransactionSql,
  transactionalBatchSql,
} from './exec-sql.js';
import {
  insertAppliedLiteralSql,
  stateSql,
  type SqlStatement,
  type StateRow,
  type StateSql,
} from './state-sql.js';

export interface CreateMigratorOptions {
  logger?: Logger;
}

export type { MigrationContext } from './module.js';
export { prefixChecksum } from './files.js';

export async function createMigrator(
  db: Database,
  config: MigrationsConfig,
  planDir: string,
  options: CreateMigratorOptions = {},
): Promise<Migrator> {
  return new SqlMigrator(db, config, planDir, options);
}

class SqlMigrator implements Migrator {
  private readonly sql: StateSql;
  private readonly dir: string;

  constructor(
    private readonly db: Database,
    private readonly config: MigrationsConfig,
    private readonly planDir: string,
    private readonly options: CreateMigratorOptions,
  ) {
    this.sql = stateSql(db.dialect, config.table);
    this.dir = path.resolve(planDir, config.dir);
  }

  private listing: Promise<MigrationFile[]> | undefined;

  /**
   * The folder is read once per migrator: what was validated (and checksummed) is what is
   * applied, even if files change while a run is under way. A failed read is retried next time.
   */
  private files(): Promise<MigrationFile[]> {
    this.listing ??= listMigrationFiles(this.dir, this.planDir).catch((error: unknown) => {
      this.listing = undefined;
      throw error;
    });
    return this.listing;
  }

  async all(): Promise<MigrationInfo[]> {
    return (await this.files()).map(info);
  }

  private async rows(): Promise<StateRow[]> {
    const exists = this.sql.exists();
    if (Number((await this.db.query<{ n: number }>(exists.sql, exists.params))[0]?.n) === 0) return [];
    const select = this.sql.select();
    return this.db.query<StateRow>(select.sql, select.params);
  }

  async applied(): Promise<AppliedMigration[]> {
    const files = new Map((await this.files()).map((f) => [f.name, f]));
    return (await this.rows())
      .filter((r) => r.state === 'applied')
      .map((r) => {
        const f = files.get(r.name);
        return {
          name: r.name,
          file: f?.file ?? path.join(this.config.dir, r.name),
          hasDown: Boolean(f && (f.downPath || f.kind === 'module')),
          transactional: f?.transactional ?? true,
          appliedAt: r.applied_at ? new Date(r.applied_at).toISOString() : '',
          checksum: r.checksum,
          durationMs: Number(r.duration_ms ?? 0),
        };
      });
  }

  /**
   * Refuses (exit 2) when an applied migration's file has changed since, or when a half-applied
   * one's already-run statements have (the statements not yet run may still be fixed).
   */
  private async checkChecksums(files: MigrationFile[], rows: StateRow[]): Promise<void> {
    const byName = new Map(files.map((f) => [f.name, f]));
    const changed: StateRow[] = [];
    for (const r of rows) {
      const f = byName.get(r.name);
      if (!f) continue;
      if (r.state === 'applied' || f.kind !== 'sql') {
        if (f.checksum !== r.checksum) changed.push(r);
        continue;
      }
      const statements = splitStatements(f.text ?? (await readFile(f.path, 'utf8')), {
        dialect: this.db.dialect,
      });
      if (prefixChecksum(statements, Number(r.statements_done)) !== r.checksum) changed.push(r);
    }
    if (changed.length === 0) return;
    const issues = changed.map((r) => ({
      file: byName.get(r.name)!.file,
      message:
        r.state === 'applied'
          ? 'was changed after it was applied'
          : `statements 1-${r.statements_done} were changed after they were applied`,
    }));
    throw new InputError(
      'MIGRATION_CHANGED',
      `Migration file${issues.length > 1 ? 's' : ''} changed after being applied: ${issues.map((i) => i.file).join(', ')}`,
      issues,
      {
        hint: 'Restore the original file (git checkout it) and put the change in a new migration: `maint migrate create PLAN NAME`.',
      },
    );
  }

  async pending(): Promise<MigrationInfo[]> {
    const files = await this.files();
    const rows = await this.rows();
    await this.checkChecksums(files, rows);
    const done = new Set(rows.filter((r) => r.state === 'applied').map((r) => r.name));
    return files.filter((f) => !done.has(f.name)).map(info);
  }

  private async umzug(files: MigrationFile[], options: UpOptions, applied: AppliedMigration[]) {
    const { Umzug } = await import('umzug');
    const migrations = files.map((f) => ({
      name: f.name,
      path: f.path,
      up: async () => {
        await options.beforeMigration?.(f.name);
        const started = performance.now();
        await this.applyOne(f, options);
        applied.push({
          ...info(f),
          appliedAt: new Date().toISOString(),
          checksum: f.checksum,
          durationMs: Math.round(performance.now() - started),
        });
      },
      down: async () => {
        await options.beforeMigration?.(f.name);
        await this.revertOne(f, options);
      },
    }));
    const umzug = new Umzug<Record<string, never>>({
      migrations,
      logger: undefined,
      context: {},
      storage: {
        executed: async () => (await this.rows()).filter((r) => r.state === 'applied').map((r) => r.name),
        // Each migration records itself (in its own transaction where it can); nothing to add here.
        logMigration: async () => undefined,
        unlogMigration: async () => undefined,
      },
    });
    const started = new Map<string, number>();
    umzug.on('migrating', ({ name }) => {
      started.set(name, performance.now());
      options.onProgress?.({ type: 'migrating', name });
    });
    umzug.on('migrated', ({ name }) =>
      options.onProgress?.({
        type: 'migrated',
        name,
        durationMs: Math.round(performance.now() - (started.get(name) ?? 0)),
      }),
    );
    umzug.on('reverting', ({ name }) => {
      started.set(name, performance.now());
      options.onProgress?.({ type: 'reverting', name });
    });
    umzug.on('reverted', ({ name }) =>
      options.onProgress?.({
        type: 'reverted',
        name,
        durationMs: Math.round(performance.now() - (started.get(name) ?? 0)),
      }),
    );
    return umzug;
  }

  async up(options: UpOptions = {}): Promise<AppliedMigration[]> {
    const files = await this.files();
    await execute(this.db, this.sql.create());
    await this.checkChecksums(files, await this.rows());
    const applied: AppliedMigration[] = [];
    const umzug = await this.umzug(files, options, applied);
    try {
      await umzug.up();
    } catch (error) {
      throw unwrap(error);
    }
    return applied;
  }

  async down(options: DownOptions): Promise<MigrationInfo[]> {
    const files = await this.files();
    const rows = await this.rows();
    await this.checkChecksums(files, rows);
    const appliedNames = rows
      .filter((r) => r.state === 'applied')
      .map((r) => r.name)
      .sort();
    let keep = 0;
    if (options.to !== 0) {
      const index = appliedNames.indexOf(options.to);
      if (index === -1) {
        throw new InputError(
          'MIGRATION_UNKNOWN',
          `"${options.to}" is not an applied migration.`,
          [{ path: '--to', message: 'not an applied migration' }],
          {
            hint: 'See applied migrations with `maint migrate status PLAN`; `--to 0` reverts all.',
          },
        );
      }
      keep = index + 1;
    }
    const targets = appliedNames.slice(keep).reverse();
    const byName = new Map(files.map((f) => [f.name, f]));
    const missing = targets.filter((n) => {
      const f = byName.get(n);
      return !f || (f.kind === 'sql' && !f.downPath);
    });
    if (missing.length > 0) {
      throw new InputError(
        'MIGRATION_NO_DOWN',
        `No down migration for ${missing.join(', ')}; nothing was reverted.`,
        missing.map((n) => ({ file: byName.get(n)?.file ?? n, message: 'has no .down.sql' })),
        {
          hint: 'Write the NNN_name.down.sql file(s), or revert to a later migration with `--to`.',
        },
      );
    }
    if (targets.length === 0) return [];
    const umzug = await this.umzug(files, options, []);
    try {
      await umzug.down({ step: targets.length });
    } catch (error) {
      throw unwrap(error);
    }
    return targets.map((n) => info(byName.get(n)!));
  }

  private async applyOne(f: MigrationFile, options: UpOptions): Promise<void> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    if (f.kind === 'module') {
      const mod = await loadModule(f);
      if (!mod.up)
        throw new InputError('MIGRATION_MODULE', `${f.file} exports no up() function`, [
          { file: f.file, message: 'exports no up()' },
        ]);
      const inTx = this.db.dialect === 'postgres' && mod.transaction !== false;
      await this.withRetry(f, 'up()', options, async () => {
        if (inTx) {
          await this.db.transaction(async (tx) => {
            for (const s of lockTimeoutSql('postgres', this.config.lockTimeout, true)) await execute(tx, s);
            await mod.up!({ db: tx, name: f.name });
            await execute(tx, this.sql.insertApplied(f.name, f.checksum, elapsed()));
          });
        } else {
          await this.inSession(async (conn) => {
            for (const s of lockTimeoutSql(this.db.dialect, this.config.lockTimeout, false))
              await execute(conn, s);
            await mod.up!({ db: conn, name: f.name });
          });
          await execute(this.db, this.sql.insertApplied(f.name, f.checksum, elapsed()));
        }
      });
      return;
    }
    const text = f.text ?? (await readFile(f.path, 'utf8'));
    const statements = splitStatements(text, { dialect: this.db.dialect });
    if (this.db.dialect === 'postgres' && f.transactional) {
      const queryOptions = options.signal ? { signal: options.signal } : {};
      let attempt = 0;
      let current = statements.length === 1 ? statements[0]! : `${statements.length} statements`;
      await this.withRetry(
        f,
        () => current,
        options,
        () => {
          attempt++;
          if (attempt === 1 && this.db.script) {
            // One round trip for the whole migration and its record: most migrations get their
            // locks at once, and round trips dominate the cost of many small migrations.
            const record = insertAppliedLiteralSql(this.config.table, f.name, f.checksum);
            const batch = transactionalBatchSql(this.config.lockTimeout, statements, record);
            return this.db.script(batch.sql, queryOptions);
          }
          return this.db.transaction(async (tx) => {
            // After a lock timeout, statement by statement, so a final failure names the statement.
            for (const s of lockTimeoutSql('postgres', this.config.lockTimeout, true)) await execute(tx, s);
            for (const statement of statements) {
              current = statement;
              await tx.query(statement, [], queryOptions);
            }
            await execute(tx, this.sql.insertApplied(f.name, f.checksum, elapsed()));
          });
        },
      );
      return;
    }
    await this.applyStatementwise(f, statements, options, elapsed);
  }

  private async applyStatementwise(
    f: MigrationFile,
    statements: string[],
    options: UpOptions,
    elapsed: () => number,
  ): Promise<void> {
    await execute(this.db, this.sql.begin(f.name, prefixChecksum(statements, 0)));
    const one = this.sql.selectOne(f.name);
    const row = (await this.db.query<StateRow>(one.sql, one.params))[0];
    const from = Number(row?.statements_done ?? 0);
    if (from > 0)
      this.options.logger?.info(`${f.name}: resuming at statement ${from + 1} of ${statements.length}`);
    for (let i = from; i < statements.length; i++) {
      const statement = statements[i]!;
      try {
        await this.withRetry(f, statement, options, () =>
          this.inSession(async (conn) => {
            for (const s of lockTimeoutSql(this.db.dialect, this.config.lockTimeout, false))
              await execute(conn, s);
            const index = this.db.dialect === 'postgres' ? concurrentIndexName(statement) : null;
            if (index) {
              // A CREATE INDEX CONCURRENTLY that failed or was killed leaves an INVALID index; rebuild it.
              const find = findInvalidIndexSql(index);
              const invalid = await conn.query<{ name: string }>(find.sql, find.params);
              for (const r of invalid) await execute(conn, dropIndexConcurrentlySql(r.name));
            }
            const progress = this.sql.progress(f.name, i + 1, prefixChecksum(statements, i + 1));
            if (this.db.dialect === 'mysql') {
              // DML and its progress record commit together; DDL commits implicitly before the record.
              await execute(conn, mysqlStartTransactionSql());
              await conn.query(statement, [], options.signal ? { signal: options.signal } : {});
              await execute(conn, progress);
              await execute(conn, mysqlCommitSql());
            } else {
              await conn.query(statement, [], options.signal ? { signal: options.signal } : {});
              await execute(conn, progress);
            }
          }),
        );
      } catch (error) {
        throw partialFailure(error, f, i, statements.length);
      }
    }
    await execute(this.db, this.sql.finish(f.name, f.checksum, elapsed()));
  }

  private async revertOne(f: MigrationFile, options: UpOptions): Promise<void> {
    if (f.kind === 'module') {
      const mod = await loadModule(f);
      if (!mod.down)
        throw new InputError('MIGRATION_NO_DOWN', `${f.file} exports no down() function`, [
          { file: f.file, message: 'exports no down()' },
        ]);
      const inTx = this.db.dialect === 'postgres' && mod.transaction !== false;
      await this.withRetry(f, 'down()', options, async () => {
        if (inTx) {
          await this.db.transaction(async (tx) => {
            for (const s of lockTimeoutSql('postgres', this.config.lockTimeout, true)) await execute(tx, s);
            await mod.down!({ db: tx, name: f.name });
            await execute(tx, this.sql.remove(f.name));
          });
        } else {
          await this.inSession(async (conn) => mod.down!({ db: conn, name: f.name }));
          await execute(this.db, this.sql.remove(f.name));
        }
      });
      return;
    }
    const text = await readFile(f.downPath!, 'utf8');
    const statements = splitStatements(text, { dialect: this.db.dialect });
    if (this.db.dialect === 'postgres' && f.transactional) {
      await this.withRetry(f, `${path.basename(f.downPath!)}`, options, () =>
        this.db.transaction(async (tx) => {
          for (const s of lockTimeoutSql('postgres', this.config.lockTimeout, true)) await execute(tx, s);
          for (const statement of statements)
            await tx.query(statement, [], options.signal ? { signal: options.signal } : {});
          await execute(tx, this.sql.remove(f.name));
        }),
      );
      return;
    }
    for (const statement of statements) {
      await this.withRetry(f, statement, options, () =>
        this.inSession(async (conn) => {
          for (const s of lockTimeoutSql(this.db.dialect, this.config.lockTimeout, false))
            await execute(conn, s);
          await conn.query(statement, [], options.signal ? { signal: options.signal } : {});
        }),
      );
    }
    await execute(this.db, this.sql.remove(f.name));
  }

  private inSession<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    return this.db.session ? this.db.session(fn) : fn(this.db);
  }

  private async withRetry(
    f: MigrationFile,
    statement: string | (() => string),
    options: UpOptions,
    attempt: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await retryMigrationStep(attempt, {
        dialect: this.db.dialect,
        name: f.name,
        lockTimeoutMs: this.config.lockTimeout,
        retries: this.config.retries,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } catch (error) {
      throw migrationFailure(
        error,
        f,
        typeof statement === 'function' ? statement() : statement,
        this.config.lockTimeout,
        this.db.dialect === 'postgres' && f.transactional,
      );
    }
  }
}

function execute(q: Queryable, statement: SqlStatement, options?: QueryOptions): Promise<unknown> {
  return q.query(statement.sql, statement.params, options);
}

function info(f: MigrationFile): MigrationInfo {
  return {
    name: f.name,
    file: f.file,
    hasDown: Boolean(f.downPath) || f.kind === 'module',
    transactional: f.transactional,
  };
}
