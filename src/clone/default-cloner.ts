import { InputError, LockHeldError } from '../errors.js';
import type { CloneMethod } from '../plan/schema.js';
import type { ClonerPort } from './cloner.js';
import { preflightReplica } from './mysql-replica.js';
import { preflightLogical } from './pg-logical.js';
import { blockState, reopenConnections, serverOf } from './pg-template.js';
import { databaseOf, maskUrl, withDatabase } from './pg-tools.js';
import { cloneTarget } from './target.js';

/** Which methods are built, by method: a missing one fails to compile. */
const BUILT = {
  logical: true,
  dump: true,
  template: true,
  replica: true,
  'rds-snapshot': true,
  'rds-blue-green': true,
} satisfies Record<CloneMethod, boolean>;

/**
 * PostgreSQL `logical` and `dump`, MariaDB `replica`, and the RDS methods `rds-blue-green` and
 * `rds-snapshot` are built; every other method (and a method on an engine it does not clone) is
 * refused before anything is opened.
 */
export const clonerPort: ClonerPort = {
  async open(config, loaded, deps) {
    const { method } = config.clone;
    const refuse = (message: string, hint: string) =>
      new InputError(
        'STRATEGY_UNSUPPORTED',
        `${loaded.path}: strategy.clone.method: ${message}`,
        [{ file: loaded.path, path: 'strategy.clone.method', message }],
        { hint },
      );
    if (!BUILT[method])
      throw refuse(
        `the ${method} clone method is not available in this version of maint`,
        'Use `method: logical`, `dump`, `rds-blue-green` or `rds-snapshot` (PostgreSQL), `replica` (MariaDB), or `strategy: in-place`.',
      );
    const { engine } = loaded.plan.database;
    if (engine === 'mysql' && method !== 'replica')
      throw refuse(
        method === 'logical'
          ? 'the logical method (the default) clones PostgreSQL; for a MySQL/MariaDB plan name `method: replica`'
          : `the ${method} method is built for PostgreSQL only; this plan's database is mysql`,
        'Use `clone: { method: replica, url: mysql://… }` (a second MariaDB server), or `strategy: in-place`.',
      );
    if (engine !== 'postgres' && engine !== 'mysql')
      throw refuse(
        `the ${method} method is built for PostgreSQL only; this plan's database is ${engine}`,
        'Use `strategy: in-place` for this database.',
      );
    if (engine === 'postgres' && method === 'replica')
      throw refuse(
        "the replica method clones MariaDB; this plan's database is postgres",
        'Use `method: logical` or `method: dump`.',
      );
    if (method === 'rds-blue-green' || method === 'rds-snapshot') {
      // The RDS methods check the instance through the RDS API (src/clone/rds-preflight.ts).
      const { preflightRds } = await import('./rds-preflight.js');
      await preflightRds(config, loaded, deps !== undefined);
      return { close: async () => undefined };
    }
    if (method === 'template') {
      await preflightTemplate(config, loaded, deps);
      return { close: async () => undefined };
    }
    if (deps && engine === 'mysql') {
      const target = cloneTarget(config, loaded.plan.database);
      const live = await deps.openDatabase(loaded.plan.database);
      try {
        const admin = await deps.openDatabase({ engine: 'mysql', url: target.adminUrl });
        try {
          await preflightReplica(live, admin, target.database);
        } finally {
          await admin.close();
        }
      } finally {
        await live.close();
      }
    } else if (deps) {
      const target = cloneTarget(config, loaded.plan.database);
      const live = await deps.openDatabase(loaded.plan.database);
      try {
        const admin = await deps.openDatabase({ engine: 'postgres', url: target.adminUrl });
        try {
          await preflightLogical(live, admin, {
            method: method === 'dump' ? 'dump' : 'logical',
            maxDurationMs: config.freeze.maxDuration,
            graceMs: config.freeze.grace,
          });
        } finally {
          await admin.close();
        }
      } finally {
        await live.close();
      }
    }
    return { close: async () => undefined };
  },
};

/**
 * `template`: the clone on the live server (CREATE DATABASE … TEMPLATE copies within one
 * cluster) and the lock held from another database (every session on the live database is
 * ended for the copy). With `deps`: a block left by a run killed during the copy is lifted
 * first (the journal is in the blocked database), then the checks of `dump`, with the
 * template's estimate.
 */
async function preflightTemplate(
  config: Parameters<ClonerPort['open']>[0],
  loaded: Parameters<ClonerPort['open']>[1],
  deps: Parameters<ClonerPort['open']>[2],
): Promise<void> {
  const { database } = loaded.plan;
  const target = cloneTarget(config, database);
  const liveName = databaseOf(database.url);
  const refuse = (path: string, message: string, hint: string) =>
    new InputError(
      'CLONE_PREFLIGHT',
      `${loaded.path}: ${path}: ${message}`,
      [{ file: loaded.path, path, message }],
      {
        hint,
      },
    );
  if (serverOf(target.url) !== serverOf(database.url))
    throw refuse(
      'strategy.clone.url',
      `the template method copies within one PostgreSQL server (CREATE DATABASE … TEMPLATE); the clone is on ${serverOf(target.url)}, the live database on ${serverOf(database.url)}`,
      'Put the clone on the live server (omit clone.url, or name a database there), or use `method: logical` or `method: dump` to copy to another server; nothing was changed.',
    );
  if (target.database === liveName)
    throw refuse(
      'strategy.clone.url',
      'the clone cannot be the live database itself',
      'Name another database; nothing was changed.',
    );
  const lockUrl = database.lockUrl;
  if (!lockUrl || (serverOf(lockUrl) === serverOf(database.url) && databaseOf(lockUrl) === liveName))
    throw refuse(
      'database.lockUrl',
      `the template method ends every session on ${liveName} for the copy, maint's lock session too: the lock must be held from another database`,
      `Add \`database.lockUrl\` with the same server's maintenance database, e.g. ${maskUrl(withDatabase(database.url, 'postgres'))} (every run of this plan must use it); nothing was changed.`,
    );
  if (!deps) return;
  const admin = await deps.openDatabase({ engine: 'postgres', url: target.adminUrl });
  try {
    const state = await blockState(admin, liveName);
    if (state?.blockedBy) {
      // A run blocked connections and is gone, or is copying now: its lock says which.
      const lockDb = await deps.openDatabase({ engine: 'postgres', url: lockUrl });
      try {
        const lock = await lockDb.acquireLock(loaded.plan.name, { wait: false, purpose: 'template-reopen' });
        if (!lock)
          throw new LockHeldError(
            `run ${state.blockedBy} is copying ${liveName} (connections blocked) and holds the lock`,
            { hint: 'Wait for it to finish; it allows connections again when the copy ends.' },
          );
        try {
          await reopenConnections(admin, liveName);
        } finally {
          await lock.release();
        }
      } finally {
        await lockDb.close();
      }
    }
    const live = await deps.openDatabase(database);
    try {
      await preflightLogical(live, admin, {
        method: 'template',
        maxDurationMs: config.freeze.maxDuration,
        graceMs: config.freeze.grace,
      });
    } finally {
      await live.close();
    }
  } finally {
    await admin.close();
  }
}
