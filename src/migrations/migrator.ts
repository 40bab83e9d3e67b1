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

/**
 * A migration whose file changed after (part of) it was applied: `applied`, the whole file's
 * checksum differs from the recorded one; `partial`, the statements already run differ.
 */
export interface ChangedMigration {
  name: string;
  /** Path relative to the plan's folder. */
  file: string;
  state: 'applied' | 'partial';
  /** When it was applied (ISO-8601 UTC); null for a partial one. */
  appliedAt: string | null;
  /** For `partial`: how many statements were run (their checksum is what is compared). */
  statementsDone: number;
  /** The checksum recorded when it was applied. */
  appliedChecksum: string;
  /** The checksum of the file as it is now (of its first `statementsDone` statements when partial). */
  currentChecksum: string;
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
  /**
   * Pending migrations; throws InputError (exit 2, `MIGRATION_CHANGED`) naming a changed applied
   * file, unless `allowChanged` (the read-only views show the change instead: `changed()`).
   */
  pending(options?: { allowChanged?: boolean }): Promise<PendingMigration[]>;
  /** Applied (or half-applied) migrations whose files changed since; reads only. */
  changed(): Promise<ChangedMigration[]>;
  /**
   * Record the current checksum of these changed migrations (`maint migrate accept`, after a
   * review). Returns what was updated; a name that is not changed is left alone.
   */
  accept(names: readonly string[]): Promise<ChangedMigration[]>;
  /** Apply every pending migration, in order. Returns what was applied. */
  up(options?: UpOptions): Promise<AppliedMigration[]>;
  /** Revert applied migrations newest first, down to `to`. Returns what was reverted. */
  down(options: DownOptions): Promise<MigrationInfo[]>;
}
