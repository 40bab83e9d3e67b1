/**
 * The real ports. Drivers, umzug, handlebars and the channel SDKs load only when a use case
 * calls for them, so commands that never touch a database start fast.
 */
import { hostname } from 'node:os';
import { jobFromEnv } from '../db/identity.js';
import { fleetPort } from '../fleet/registry.js';
import { createLogger, type Logger } from '../support/logger.js';
import { systemClock, type Clock } from './clock.js';
import { DatabaseJournal } from './journal/journal-db.js';
import type { Ports } from './ports.js';

export interface DefaultPortsOptions {
  logger?: Logger;
  /** @default systemClock() (honours MAINT_NOW) */
  clock?: Clock;
}

export function defaultPorts(options: DefaultPortsOptions = {}): Ports {
  const logger = options.logger ?? createLogger();
  const job = jobFromEnv();
  return {
    openDatabase: async (config, dir, log) =>
      (await import('../db/index.js')).openDatabase(config, dir, { logger: log }),
    createMigrator: async (db, loaded, log) =>
      (await import('../migrations/index.js')).createMigrator(db, loaded.plan.migrations, loaded.dir, {
        logger: log,
      }),
    journal: (db) => new DatabaseJournal(db),
    notify: async () => (await import('../notify/default-port.js')).defaultNotifyPort(),
    fleet: fleetPort,
    // The clone methods (and their SQL) load only for a plan whose strategy clones.
    cloner: {
      open: async (config, loaded, deps) =>
        (await import('../clone/default-cloner.js')).clonerPort.open(config, loaded, deps),
    },
    clock: options.clock ?? systemClock(),
    host: { host: hostname(), pid: process.pid, ...(job ? { job } : {}) },
    logger,
  };
}
