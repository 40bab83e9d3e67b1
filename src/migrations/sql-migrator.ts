/**
 * The Migrator on a Database, run by umzug. Each migration records itself: on PostgreSQL a
 * transactional migration and its record commit together; a non-transactional one (and every
 * MySQL migration, whose DDL commits implicitly) is journaled as `running` with a per-statement
 * progress counter, so a crash resumes at the statement that did not finish. Every statement
 * runs under a short lock timeout and is retried with backoff, so live queries never queue
 * behind DDL for longer than that timeout.
 *
 * This file decides what to run (pending files, checksums, down targets); applying and reverting
 * one migration is one routine (`run`, with a Direction from direction.ts) handing it to the
 * dialect's executor (executors.ts: exec-postgres.ts, exec-mysql.ts). SQL texts come from
 * state-sql.ts and exec-sql.ts; retries from retry.ts.
 */
import { act, hint } from '../hints.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../db/database.js';
import { InputError } from '../errors.js';
import type { Logger } from '../support/logger.js';
import type { MigrationsConfig } from '../plan/schema.js';
import { changedError } from './changed.js';
import { DOWN, UP, type Direction } from './direction.js';
import { EXECUTORS } from './executors.js';
import { unwrap } from './failure.js';
import { listMigrationFiles, prefixChecksum, type MigrationFile } from './files.js';
import type {
  AppliedMigration,
  ChangedMigration,
  DownOptions,
  MigrationInfo,
  Migrator,
  PendingMigration,
  UpOptions,
} from './migrator.js';
import { loadModule, migrationDb } from './module.js';
import { splitStatements } from './split.js';
import { stateSql, type StateRow, type StateSql } from './state-sql.js';
import { execute, MigrationStep } from './step.js';
import { loadUmzug } from './umzug-api.js';

export type { MigrationContext } from './module.js';
export { prefixChecksum } from './files.js';

export interface CreateMigratorOptions {
  logger?: Logger;
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
    const files = new Map((await this.withModuleTransaction(await this.files())).map((f) => [f.name, f]));
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
   * Applied migrations whose file has changed since, and half-applied ones whose already-run
   * statements have (the statements not yet run may still be fixed).
   */
  private async findChanged(files: MigrationFile[], rows: StateRow[]): Promise<ChangedMigration[]> {
    const byName = new Map(files.map((f) => [f.name, f]));
    const changed: ChangedMigration[] = [];
    for (const r of rows) {
      const f = byName.get(r.name);
      if (!f) continue;
      const done = Number(r.statements_done);
      const current =
        r.state === 'applied' || f.kind !== 'sql'
          ? f.checksum
          : prefixChecksum(
              splitStatements(f.text ?? (await readFile(f.path, 'utf8')), { dialect: this.db.dialect }),
              done,
            );
      if (current === r.checksum) continue;
      changed.push({
        name: r.name,
        file: f.file,
        state: r.state === 'applied' ? 'applied' : 'partial',
        appliedAt: r.state === 'applied' && r.applied_at ? new Date(r.applied_at).toISOString() : null,
        statementsDone: r.state === 'applied' ? 0 : done,
        appliedChecksum: r.checksum,
        currentChecksum: current,
      });
    }
    return changed;
  }

  /** Refuses (exit 2) to run on top of a changed history: see findChanged. */
  private async checkChecksums(files: MigrationFile[], rows: StateRow[]): Promise<void> {
    const changed = await this.findChanged(files, rows);
    if (changed.length > 0) throw changedError(changed);
  }

  async changed(): Promise<ChangedMigration[]> {
    return this.findChanged(await this.files(), await this.rows());
  }

  async accept(names: readonly string[]): Promise<ChangedMigration[]> {
    const wanted = new Set(names);
    const accepted: ChangedMigration[] = [];
    for (const c of await this.changed()) {
      if (!wanted.has(c.name)) continue;
      const update = this.sql.accept(c.name, c.appliedChecksum, c.currentChecksum);
      await execute(this.db, update);
      accepted.push(c);
    }
    return accepted;
  }

  async pending(options: { allowChanged?: boolean } = {}): Promise<PendingMigration[]> {
    const files = await this.files();
    const rows = await this.rows();
    if (!options.allowChanged) await this.checkChecksums(files, rows);
    const byName = new Map(rows.map((r) => [r.name, r]));
    const out: PendingMigration[] = [];
    for (const f of await this.withModuleTransaction(
      files.filter((f) => byName.get(f.name)?.state !== 'applied'),
    )) {
      const row = byName.get(f.name);
      if (row?.state === 'applied') continue;
      const done = row ? Number(row.statements_done) : 0;
      // A `running` row with nothing done yet left nothing behind: plainly pending.
      if (done === 0) {
        out.push({ ...info(f), state: 'pending', statementsDone: 0, statements: null });
        continue;
      }
      const statements =
        f.kind === 'sql'
          ? splitStatements(f.text ?? (await readFile(f.path, 'utf8')), { dialect: this.db.dialect }).length
          : null;
      out.push({ ...info(f), state: 'partial', statementsDone: done, statements });
    }
    return out;
  }

  /**
   * What `plan` and `migrate status` show: a module's own `transaction` export decides, as it
   * does when the module runs (a file listing cannot know it without loading the module).
   */
  private async withModuleTransaction(files: MigrationFile[]): Promise<MigrationFile[]> {
    return Promise.all(
      files.map(async (f) =>
        f.kind === 'module' ? { ...f, transactional: (await loadModule(f)).transaction !== false } : f,
      ),
    );
  }

  private async umzug(files: MigrationFile[], options: UpOptions, applied: AppliedMigration[]) {
    const { Umzug } = loadUmzug();
    const migrations = files.map((f) => ({
      name: f.name,
      path: f.path,
      up: async () => {
        await options.beforeMigration?.(f.name);
        const started = performance.now();
        await this.run(f, UP, options);
        applied.push({
          ...info(f),
          appliedAt: new Date().toISOString(),
          checksum: f.checksum,
          durationMs: Math.round(performance.now() - started),
        });
      },
      down: async () => {
        await options.beforeMigration?.(f.name);
        await this.run(f, DOWN, options);
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
    for (const [begin, end] of [
      ['migrating', 'migrated'],
      ['reverting', 'reverted'],
    ] as const) {
      umzug.on(begin, ({ name }) => {
        started.set(name, performance.now());
        options.onProgress?.({ type: begin, name });
      });
      umzug.on(end, ({ name }) =>
        options.onProgress?.({
          type: end,
          name,
          durationMs: Math.round(performance.now() - (started.get(name) ?? 0)),
        }),
      );
    }
    return umzug;
  }

  async up(options: UpOptions = {}): Promise<AppliedMigration[]> {
    const files = await this.files();
    await execute(this.db, this.sql.create());
    const rows = await this.rows();
    await this.checkChecksums(files, rows);
    // Nothing pending (every container start but the first): umzug is not even loaded.
    const done = new Set(rows.filter((r) => r.state === 'applied').map((r) => r.name));
    if (files.every((f) => done.has(f.name))) return [];
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
            hint: hint('See applied migrations with {status}; `--to 0` reverts all.', {
              status: act('migrate status'),
            }),
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

  /** Applying and reverting alike: load the module or split the SQL, then the dialect's executor runs it. */
  private async run(f: MigrationFile, direction: Direction, options: UpOptions): Promise<void> {
    const step = new MigrationStep(
      this.db,
      this.config,
      this.sql,
      f,
      direction,
      options,
      this.options.logger,
    );
    const executor = EXECUTORS[this.db.dialect];
    if (f.kind === 'module') {
      const mod = await loadModule(f);
      const fn = direction.moduleFunction(f, mod);
      await executor.module(
        step,
        (db) => fn({ db: migrationDb(db), name: f.name }),
        mod.transaction !== false,
      );
      return;
    }
    const text = await direction.text(f);
    // Lines are named in the up file only (a failure names f.file).
    if (direction.name === 'up') step.source = text;
    await executor.sql(step, splitStatements(text, { dialect: this.db.dialect }));
  }
}

function info(f: MigrationFile): MigrationInfo {
  return {
    name: f.name,
    file: f.file,
    hasDown: Boolean(f.downPath) || f.kind === 'module',
    transactional: f.transactional,
  };
}
