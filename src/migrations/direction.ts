/**
 * Applying and reverting run through the same routine (`run` in sql-migrator.ts) and executors;
 * a Direction holds everything that differs between the two.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { MigrationFile } from './files.js';
import type { MigrationContext, MigrationModule } from './module.js';
import type { SqlStatement, StateSql } from './state-sql.js';

export interface Direction {
  readonly name: 'up' | 'down';
  /** The SQL text a SQL migration runs. */
  text(f: MigrationFile): Promise<string>;
  /** The module's function for this direction; an InputError (exit 2) when it has none. */
  moduleFunction(f: MigrationFile, mod: MigrationModule): (ctx: MigrationContext) => Promise<unknown>;
  /** What a failure in a module's function names instead of a statement. */
  readonly moduleLabel: string;
  /**
   * The record that marks the migration applied (up) or no longer applied (down): in the
   * migration's transaction when it has one, after it otherwise.
   */
  record(sql: StateSql, f: MigrationFile, durationMs: number): SqlStatement;
  /**
   * Statement-by-statement runs are journaled (a `running` row with a progress counter), so a
   * killed or failed run resumes at its statement; a failure half-way is MIGRATION_PARTIAL
   * (exit 6). With it, PostgreSQL rebuilds an INVALID index a failed concurrent build left, and
   * MySQL commits each statement with its progress record. Reverts are not journaled.
   */
  readonly journaled: boolean;
  /** PostgreSQL: a transactional migration's first attempt travels as one script (one round trip). */
  readonly oneRoundTrip: boolean;
  /**
   * A module run outside a transaction gets the session lock timeout. Reverting has never set
   * it (kept as it was; probably an oversight: such a down() may wait on locks indefinitely).
   */
  readonly moduleSessionLockTimeout: boolean;
  /**
   * What a failed transactional (atomic) run names: the statement that was running (`undefined`),
   * or, when reverting, the down file.
   */
  atomicLabel(f: MigrationFile): string | undefined;
}

export const UP: Direction = {
  name: 'up',
  text: async (f) => f.text ?? (await readFile(f.path, 'utf8')),
  moduleFunction: (f, mod) => {
    if (!mod.up)
      throw new InputError('MIGRATION_MODULE', `${f.file} exports no up() function`, [
        { file: f.file, message: 'exports no up()' },
      ]);
    return (ctx) => mod.up!(ctx);
  },
  moduleLabel: 'up()',
  record: (sql, f, durationMs) => sql.insertApplied(f.name, f.checksum, durationMs),
  journaled: true,
  oneRoundTrip: true,
  moduleSessionLockTimeout: true,
  atomicLabel: () => undefined,
};

export const DOWN: Direction = {
  name: 'down',
  text: (f) => readFile(f.downPath!, 'utf8'),
  moduleFunction: (f, mod) => {
    if (!mod.down)
      throw new InputError('MIGRATION_NO_DOWN', `${f.file} exports no down() function`, [
        { file: f.file, message: 'exports no down()' },
      ]);
    return (ctx) => mod.down!(ctx);
  },
  moduleLabel: 'down()',
  record: (sql, f) => sql.remove(f.name),
  journaled: false,
  oneRoundTrip: false,
  moduleSessionLockTimeout: false,
  atomicLabel: (f) => path.basename(f.downPath!),
};
