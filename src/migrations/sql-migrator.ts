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
import { pathToFileURL } from 'node:url';
import type { Database, QueryOptions, Queryable } from '../db/database.js';
import { QueryError } from '../db/errors.js';
import { InputError, MaintError, OperatorActionError, RolledBackError } from '../errors.js';
import type { Logger } from '../output/logger.js';
import type { MigrationsConfig } from '../plan/schema.js';
import { listMigrationFiles, sha256, type MigrationFile } from './files.js';
import type { AppliedMigration, DownOptions, MigrationInfo, Migrator, UpOptions } from './migrator.js';
import { LockTimeoutExhaustedError, retryOnLockTimeout } from './retry.js';
import { concurrentIndexName, splitStatements, stripLeadingComments } from './split.js';
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

/** What a JS/TS migration module receives. */
export interface MigrationContext {
  db: Queryable;
  name: string;
}

interface MigrationModule {
  up?: (ctx: MigrationContext) => Promise<unknown>;
  down?: (ctx: MigrationContext) => Promise<unknown>;
  /** `false` runs the module outside a transaction (postgres). @default true */
  transaction?: boolean;
}

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
        const done = i;
        // Out of lock retries is a clean stop (exit 5); so is a failure before anything ran.
        if ((error instanceof MaintError && error.code === 'MIGRATION_LOCK_TIMEOUT') || done === 0)
          throw error;
        throw new OperatorActionError(
          'MIGRATION_PARTIAL',
          `${f.file} stopped at statement ${i + 1} of ${statements.length}; statements 1-${done} are applied. ${(error as Error).message}`,
          {
            cause: error,
            hint: `Fix the cause, then run \`maint migrate PLAN\` again: it resumes at statement ${i + 1}.`,
            details: { migration: f.name, statement: i + 1 },
          },
        );
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
      await retryOnLockTimeout(attempt, {
        dialect: this.db.dialect,
        retries: this.config.retries,
        ...(options.signal ? { signal: options.signal } : {}),
        onRetry: (n, delayMs) => {
          options.onProgress?.({
            type: 'retrying',
            name: f.name,
            attempt: n,
            message: `lock not granted within ${this.config.lockTimeout} ms; retrying in ${delayMs} ms`,
          });
        },
      });
    } catch (error) {
      throw migrationFailure(
        error,
        f,
        typeof statement === 'function' ? statement() : statement,
        this.config,
        this.db.dialect === 'postgres' && f.transactional,
      );
    }
  }
}

function execute(q: Queryable, statement: SqlStatement, options?: QueryOptions): Promise<unknown> {
  return q.query(statement.sql, statement.params, options);
}

/** Checksum of the first `n` statements of a migration: what a half-applied run has done. */
export function prefixChecksum(statements: string[], n: number): string {
  return sha256(statements.slice(0, n).join('\n;\n'));
}

function info(f: MigrationFile): MigrationInfo {
  return {
    name: f.name,
    file: f.file,
    hasDown: Boolean(f.downPath) || f.kind === 'module',
    transactional: f.transactional,
  };
}

async function loadModule(f: MigrationFile): Promise<MigrationModule> {
  try {
    if (f.path.endsWith('.ts')) {
      let tsImport: (specifier: string, parent: string) => Promise<unknown>;
      try {
        ({ tsImport } = (await import('tsx/esm/api')) as { tsImport: typeof tsImport });
      } catch (error) {
        throw new InputError(
          'MIGRATION_TS',
          `${f.file} is TypeScript, and tsx is not installed`,
          [{ file: f.file, message: 'needs tsx' }],
          {
            hint: 'Install tsx next to maint (`npm i -D tsx`), or compile the migration to .js.',
            cause: error,
          },
        );
      }
      return (await tsImport(pathToFileURL(f.path).href, import.meta.url)) as MigrationModule;
    }
    return (await import(pathToFileURL(f.path).href)) as MigrationModule;
  } catch (error) {
    if (error instanceof MaintError) throw error;
    throw new InputError(
      'MIGRATION_MODULE',
      `${f.file} cannot be loaded: ${(error as Error).message}`,
      [{ file: f.file, message: 'cannot be loaded' }],
      { cause: error },
    );
  }
}

function migrationFailure(
  error: unknown,
  f: MigrationFile,
  statement: string,
  config: MigrationsConfig,
  atomic: boolean,
): MaintError {
  const short = stripLeadingComments(statement).replace(/\s+/g, ' ').trim().slice(0, 160);
  if (error instanceof LockTimeoutExhaustedError) {
    return new RolledBackError(
      'MIGRATION_LOCK_TIMEOUT',
      `${f.file}: could not get the lock for \`${short}\` within ${config.lockTimeout} ms after ${error.attempts} attempts; live traffic was never blocked longer than that.`,
      {
        cause: error.cause,
        hint: 'A long transaction holds that table. Retry later with `maint migrate PLAN`, or raise `migrations.retries`.',
        details: { migration: f.name, statement: short },
      },
    );
  }
  if (error instanceof MaintError && !(error instanceof QueryError)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (atomic) {
    return new RolledBackError('MIGRATION_FAILED', `${f.file} failed and was rolled back: ${message}`, {
      cause: error,
      hint: 'Fix the migration (it never applied), then run `maint migrate PLAN` again.',
      details: { migration: f.name },
    });
  }
  return new RolledBackError('MIGRATION_FAILED', `${f.file} failed at \`${short}\`: ${message}`, {
    cause: error,
    hint: 'Fix the statement, then run `maint migrate PLAN` again: it resumes at that statement.',
    details: { migration: f.name, statement: short },
  });
}

/** umzug wraps what a migration throws; surface our own error. */
function unwrap(error: unknown): unknown {
  let current: unknown = error;
  for (let i = 0; i < 5 && current; i++) {
    if (current instanceof MaintError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return error;
}
