/** The executor of each SQL dialect; PGlite speaks the postgres dialect. */
import type { Dialect } from '../db/database.js';
import { mysqlExecutor } from './exec-mysql.js';
import { postgresExecutor } from './exec-postgres.js';
import type { Executor } from './step.js';

export const EXECUTORS = {
  postgres: postgresExecutor,
  mysql: mysqlExecutor,
} satisfies Record<Dialect, Executor>;
