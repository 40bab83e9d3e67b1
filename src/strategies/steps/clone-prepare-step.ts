/**
 * `clone:prepare`: the clone made online. The replication objects are named and journaled
 * first, then: the clone database, its schema (pg_dump --schema-only | psql), the publication
 * and slot on the live database, the subscription, and a wait until every table is copied.
 * Rollback drops all of it (subscription, slot, publication, clone database), whatever exists.
 */
import type { Step, StepContext } from '../../core/engine/step.js';
import {
  cloneObjectNames,
  createCloneDatabase,
  createPublisher,
  detach,
  dropCloneDatabase,
  subscribe,
} from '../../clone/pg-logical.js';
import { copySchema } from '../../clone/pg-tools.js';
import { CLONE, type CloneTarget } from '../../clone/target.js';
import { doneByInterruptedRun } from './freeze-report.js';
import { ExitCode, MaintError } from '../../errors.js';
import type { DatabaseConfig } from '../../plan/schema.js';

export interface CloneStepOptions {
  target: CloneTarget;
  live: DatabaseConfig;
  /** `dump`: only the empty clone database (the copy is made during the freeze). @default logical */
  method?: 'logical' | 'dump';
}

const SLOT_TIMEOUT_MS = 30_000;

const pg = (url: string): DatabaseConfig => ({ engine: 'postgres', url });

export function clonePrepareStep(options: CloneStepOptions): Step {
  const { target, live } = options;
  return {
    name: 'clone:prepare',
    defaultEstimateMs: 30_000,
    defaultRollbackMs: 5_000,
    async run(ctx) {
      const done = doneByInterruptedRun(ctx);
      if (done) return { ...done, clone: { database: target.database, url: target.masked } };
      const admin = await ctx.ports.openDatabase(pg(target.adminUrl));
      if (ctx.state.get(CLONE)) {
        // A resumed run starts the copy again from nothing.
        ctx.progress('an earlier attempt left a partial clone: dropping it first');
        await dropAll(ctx, target);
      } else if (
        (await admin.query('select 1 from pg_database where datname = $1', [target.database])).length > 0
      ) {
        throw new MaintError(
          'CLONE_EXISTS',
          ExitCode.rolledBack,
          `the clone database ${target.database} exists already; maint drops only what it created`,
          { hint: 'Drop that database, or name another one in strategy.clone.url, then run again.' },
        );
      }
      const objects = cloneObjectNames(ctx.runId, target.database);
      await ctx.state.set(CLONE, objects);
      const started = performance.now();
      await createCloneDatabase(admin, objects);
      if (options.method === 'dump')
        return {
          summary: `clone database ${target.database} created (empty: the dump fills it during the freeze)`,
          clone: { database: target.database, url: target.masked },
        };
      ctx.progress(`copying the schema to ${target.masked}`);
      await copySchema(live.url, target.url, ctx.signal);
      const tables = await createPublisher(ctx.db, objects, SLOT_TIMEOUT_MS);
      const clone = await ctx.ports.openDatabase(pg(target.url));
      ctx.progress(`subscribing: ${tables.length} tables`);
      await subscribe(clone, objects, live.url, ctx.signal, (m) => ctx.progress(m));
      return {
        summary: `clone ${target.database} in sync (${tables.length} tables, ${Math.round(performance.now() - started)} ms)`,
        clone: { database: target.database, url: target.masked, tables: tables.length },
        replication: {
          publication: objects.publication,
          slot: objects.slot,
          subscription: objects.subscription,
        },
      };
    },
    async rollback(ctx) {
      if (!ctx.state.get(CLONE)) return { summary: 'no clone was made' };
      const dropped = await dropAll(ctx, target);
      return {
        summary: dropped
          ? `dropped the clone ${target.database} and its replication`
          : 'dropped the replication objects',
      };
    },
  };
}

/** Drop the subscription, slot, publication and the clone database: each only if it exists. */
export async function dropAll(ctx: StepContext, target: CloneTarget): Promise<boolean> {
  const objects = ctx.state.get(CLONE)!;
  const admin = await ctx.ports.openDatabase(pg(target.adminUrl));
  const exists =
    (await admin.query('select 1 from pg_database where datname = $1', [objects.database])).length > 0;
  const clone = exists ? await ctx.ports.openDatabase(pg(target.url)) : null;
  await detach(ctx.db, clone, objects, ctx.signal);
  return dropCloneDatabase(admin, objects);
}
