/**
 * Where the clone lives and what a run journals about it: the clone URL (the plan's, or a
 * database named `<live>_clone` on the live server), the admin URL that creates and drops it,
 * and the state keys the clone-freeze steps share with a resumed or rolled-back run.
 */
import { stateKey } from '../core/engine/state.js';
import type { CloneFreezeConfig, DatabaseConfig } from '../plan/schema.js';
import type { ReplicaFreezeRecord } from './mysql-replica.js';
import type { ReplicaObjects } from './mysql-sql.js';
import type { CloneObjects, FreezeRecord, Phase } from './pg-logical.js';
import { databaseOf, maskUrl, withDatabase } from './pg-tools.js';

export interface CloneTarget {
  /** The engine of the live database and its clone. */
  engine: 'postgres' | 'mysql';
  /** The clone's URL (secret: its password). */
  url: string;
  /** The same server's `postgres` (MariaDB: `mysql`) database, to create and drop the clone. */
  adminUrl: string;
  database: string;
  /** The URL as it may be shown. */
  masked: string;
}

export function cloneTarget(config: CloneFreezeConfig, live: DatabaseConfig): CloneTarget {
  const url = config.clone.url ?? withDatabase(live.url, `${databaseOf(live.url)}_clone`);
  const engine = live.engine === 'mysql' ? 'mysql' : 'postgres';
  return {
    engine,
    url,
    adminUrl: withDatabase(url, engine === 'mysql' ? 'mysql' : 'postgres'),
    database: databaseOf(url),
    masked: maskUrl(url),
  };
}

/** The clone's replication objects, journaled before any is created. */
export const CLONE = stateKey<CloneObjects>('clone');
/** The freeze, journaled before it is applied: what the unfreeze restores. */
export const FREEZE = stateKey<FreezeRecord>('clone.freeze');
/** The MariaDB `replica` clone's objects (clone database, replication connection and user), journaled before any is created. */
export const REPLICA = stateKey<ReplicaObjects>('clone.replica');
/** The MariaDB freeze (read_only), journaled before it is applied. */
export const REPLICA_FREEZE = stateKey<ReplicaFreezeRecord>('clone.replica.freeze');
/**
 * Journaled by `clone:cutover` once the clone is final (caught up, sequences set, replication
 * detached; with `dump`: copied and migrated). A run killed after it is resumed, never undone:
 * the steps before report the interrupted run's work and do nothing again.
 */
export const CLONE_FINAL = stateKey<{ at: string; freeze: { totalMs: number; phases: Phase[] } }>(
  'clone.final',
);
/**
 * The `template` method's connection block on the live database, journaled before it is made
 * (the rollback allows connections again; a re-run after a crash finds the block's mark).
 */
export const TEMPLATE_BLOCK = stateKey<{ live: string; clone: string; runId: string }>('clone.template');
