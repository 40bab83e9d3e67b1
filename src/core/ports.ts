/**
 * Everything the core reaches outside itself, as one object. Hosts (the CLI, the agent, tests)
 * build a `Ports` and hand it to `createCore`; nothing in the core opens a connection, loads a
 * driver or reads the real clock except through it. Each port's interface lives in its own
 * file beside its implementations; this file only gathers them.
 */
import type { ClonerPort } from '../clone/cloner.js';
import type { Database } from '../db/database.js';
import type { FleetPort } from '../fleet/fleet.js';
import type { Migrator } from '../migrations/migrator.js';
import type { NotifyPort } from '../notify/port.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { DatabaseConfig } from '../plan/schema.js';
import type { Logger } from '../support/logger.js';
import type { Clock } from './clock.js';
import type { Journal } from './journal/journal.js';

/** Who this process is, for the journal and the lock holder. */
export interface HostIdentity {
  host: string;
  pid: number;
  /** CI job, container task or pod id, when the environment names one. */
  job?: string;
}

export interface Ports {
  /** Connect to a database (the plan's, a clone, a second server); exit 2 when unreachable. */
  openDatabase(config: DatabaseConfig, planDir: string, logger: Logger): Promise<Database>;
  createMigrator(db: Database, loaded: LoadedPlan, logger: Logger): Promise<Migrator>;
  journal(db: Database): Journal;
  /** The notification modules, loaded on first use (handlebars and the channel SDKs are heavy). */
  notify(): Promise<NotifyPort>;
  fleet: FleetPort;
  cloner: ClonerPort;
  clock: Clock;
  host: HostIdentity;
  logger: Logger;
}
