/**
 * The Cloner port: says whether a clone-freeze plan can run with these ports, and checks the
 * live database and the clone server before anything changes (exit 2). The work itself is done
 * by the clone-freeze steps (src/strategies/steps/clone-*.ts) through the method's module
 * (src/clone/pg-logical.ts for PostgreSQL `logical`).
 */
import type { Database } from '../db/database.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { CloneFreezeConfig, DatabaseConfig } from '../plan/schema.js';

export interface Cloner {
  close(): Promise<void>;
}

/** What the cloner may open to check: the databases it opens it closes before returning. */
export interface ClonerDeps {
  openDatabase(config: DatabaseConfig): Promise<Database>;
}

export interface ClonerPort {
  /**
   * Refuse a method not built for the plan's engine, and (with `deps`) what would break the
   * clone or the freeze: exit 2, nothing changed.
   */
  open(config: CloneFreezeConfig, plan: LoadedPlan, deps?: ClonerDeps): Promise<Cloner>;
}
