/**
 * Opening a database: picks the adapter for the plan's engine and loads its driver lazily, so
 * commands that never touch a database start fast.
 */
import type { DatabaseConfig } from '../plan/schema.js';
import type { Engine } from './database.js';
import type { Database } from './database.js';
import { resolveOpenOptions, type OpenDatabaseOptions } from './common.js';

export type { Database, LockHolder, LockSession, Queryable, Row } from './database.js';
export type { OpenDatabaseOptions } from './common.js';
export { LockLostError, QueryError, QueryCancelledError } from './errors.js';

type Opener = (config: DatabaseConfig, planDir: string, options: OpenDatabaseOptions) => Promise<Database>;

const OPENERS = {
  postgres: async (config, _dir, options) => (await import('./postgres.js')).openPostgres(config, options),
  mysql: async (config, _dir, options) => (await import('./mysql.js')).openMysql(config, options),
  pglite: async (config, dir, options) => (await import('./pglite.js')).openPglite(config, dir, options),
} satisfies Record<Engine, Opener>;

/**
 * Connect to the plan's database. Throws ConnectionError (exit 2, with a hint) when the server
 * cannot be reached; `planDir` resolves a pglite data folder.
 */
export async function openDatabase(
  config: DatabaseConfig,
  planDir: string,
  options: Partial<OpenDatabaseOptions> = {},
): Promise<Database> {
  return OPENERS[config.engine](config, planDir, resolveOpenOptions(options));
}
