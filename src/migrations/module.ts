/** JS/TS migration modules: what they export and receive, and loading them (.ts through tsx). */
import { pathToFileURL } from 'node:url';
import type { QueryOptions, Queryable, Row } from '../db/database.js';
import { InputError, MaintError } from '../errors.js';
import type { MigrationFile } from './files.js';

/**
 * What `db.query` gives a migration: the rows (an array, as always) that also carries `rowCount`,
 * the rows returned or, for INSERT/UPDATE/DELETE, the rows written (`affectedRows` on MySQL and
 * MariaDB). A batched backfill loops until `rowCount` is 0.
 */
export type MigrationRows<R> = R[] & { readonly rowCount: number };

/** The `db` a JS/TS migration receives: its transaction, or its session outside one. */
export interface MigrationDb {
  query<R extends Row = Row>(
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<MigrationRows<R>>;
}

/** What a JS/TS migration module receives. */
export interface MigrationContext {
  db: MigrationDb;
  name: string;
}

/** The adapters set `rowCount` on every result (db/common.ts `withRowCount`); this types it. */
export function migrationDb(q: Queryable): MigrationDb {
  return {
    async query<R extends Row = Row>(sql: string, params?: unknown[], options?: QueryOptions) {
      const rows = await q.query<R>(sql, params, options);
      if (typeof rows.rowCount !== 'number')
        Object.defineProperty(rows, 'rowCount', { value: rows.length, enumerable: false });
      return rows as MigrationRows<R>;
    },
  };
}

export interface MigrationModule {
  up?: (ctx: MigrationContext) => Promise<unknown>;
  down?: (ctx: MigrationContext) => Promise<unknown>;
  /** `false` runs the module outside a transaction (postgres). @default true */
  transaction?: boolean;
}

export async function loadModule(f: MigrationFile): Promise<MigrationModule> {
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
