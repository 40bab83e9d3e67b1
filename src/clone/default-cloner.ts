import { InputError } from '../errors.js';
import type { CloneMethod } from '../plan/schema.js';
import type { ClonerPort } from './cloner.js';
import { preflightReplica } from './mysql-replica.js';
import { preflightLogical } from './pg-logical.js';
import { cloneTarget } from './target.js';

/** Which methods are built, by method: a missing one fails to compile. */
const BUILT = {
  logical: true,
  dump: true,
  template: false,
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
