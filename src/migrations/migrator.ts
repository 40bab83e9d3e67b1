/**
 * What the engine and the `migrate` commands need from migrations. The implementation (umzug
 * wiring, SQL loader, checksums, lock-timeout retry) lives beside this file.
 */

import type { Blocker } from './blockers.js';

export interface MigrationInfo {
  /** File name without extension, e.g. `001_create_orders`. */
  name: string;
  /** Path relative to the plan's folder. */
  file: string;
  hasDown: boolean;
  /** Runs outside a transaction (e.g. CREATE INDEX CONCURRENTLY). */
  transactional: boolean;
}

/**
 * A migration not (fully) applied. `partial`: run statement by statement and stopped half-way
 * (its first `statementsDone` statements are applied; the next run resumes after them).
 */
export interface PendingMigration extends MigrationInfo {
  state: 'pending' | 'partial';
  statementsDone: number;
  /** How many statements the file has (SQL files), null for a module. */
  statements: number | null;
}

export interface AppliedMigration extends MigrationInfo {
  appliedAt: string;
  checksum: string;
  durationMs: number;
}

export interface MigrationProgress {
  type: 'migrating' | 'migrated' | 'reverting' | 'reverted' | 'retrying';
  name: string;
  durationMs?: number;
  /** For `retrying`: which attempt failed to get its lock in time. */
  attempt?: number;
  message?: string;
  /** For `retrying`: the sessions that may hold the lock (blockers.ts). */
  blockers?: Blocker[];
}

export interface UpOptions {
  signal?: AbortSignal;
  onProgress?: (p: MigrationProgress) => void;
  /**
   * Called before each migration; throwing stops the run before it starts. Pass the lock's
   * `verify` so a lost lock never lets two runners migrate at once.
   */
  beforeMigration?: (name: string) => Promise<void>;
}

export interface DownOptions extends UpOptions {
  /** Revert down to (not including) this migration name; `0` reverts everything. */
  to: string | 0;
}

export interface Migrator {
  /** Every migration file, in order. Throws InputError for a bad folder or file names. */
  all(): Promise<MigrationInfo[]>;
  applied(): Promise<AppliedMigration[]>;
  /** Pending migrations; throws InputError (exit 2) naming a changed applied file. */
  pending(): Promise<PendingMigration[]>;
  /** Apply every pending migration, in order. Returns what was applied. */
  up(options?: UpOptions): Promise<AppliedMigration[]>;
  /** Revert applied migrations newest first, down to `to`. Returns what was reverted. */
  down(options: DownOptions): Promise<MigrationInfo[]>;
}
