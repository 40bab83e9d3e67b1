/**
 * Retrying a statement that could not get its table lock in time, with exponential backoff and
 * jitter (p-retry). Only lock timeouts are retried; any other error ends the attempts at once.
 */
import pRetry, { AbortError } from 'p-retry';
import type { Dialect } from '../db/database.js';
import { QueryError } from '../db/errors.js';
import type { MigrationProgress } from './migrator.js';
import { describeBlockers, type Blocker } from './blockers.js';

/** Every attempt timed out waiting for its lock. */
export class LockTimeoutExhaustedError extends Error {
  constructor(
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`lock not granted after ${attempts} attempts`, options);
  }
}

/** PostgreSQL 55P03 lock_not_available; MySQL/MariaDB 1205 lock wait timeout (row and metadata locks). */
export function isLockTimeout(dialect: Dialect, error: unknown): boolean {
  if (!(error instanceof QueryError)) return false;
  return dialect === 'postgres' ? error.sqlState === '55P03' : error.errno === 1205;
}

export interface RetryOptions {
  dialect: Dialect;
  /** Retries after the first attempt. */
  retries: number;
  signal?: AbortSignal;
  onRetry?: (attempt: number, delayMs: number) => void;
  /** @default 200 */
  minDelayMs?: number;
  /** @default 10000 */
  maxDelayMs?: number;
}

/** The delay before retry number `attempt` (1-based), before jitter. Exported for tests. */
export function backoffDelay(attempt: number, minDelayMs = 200, maxDelayMs = 10_000): number {
  return Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1));
}

export async function retryOnLockTimeout<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  let attempts = 0;
  let lastLockError: unknown;
  try {
    return await pRetry(
      async () => {
        attempts++;
        try {
          return await fn();
        } catch (error) {
          if (isLockTimeout(options.dialect, error)) {
            lastLockError = error;
            throw error;
          }
          throw new AbortError(error as Error);
        }
      },
      {
        retries: options.retries,
        factor: 2,
        minTimeout: options.minDelayMs ?? 200,
        maxTimeout: options.maxDelayMs ?? 10_000,
        randomize: true,
        ...(options.signal ? { signal: options.signal } : {}),
        onFailedAttempt: (e) => {
          if (e.retriesLeft > 0)
            options.onRetry?.(
              e.attemptNumber,
              backoffDelay(e.attemptNumber, options.minDelayMs, options.maxDelayMs),
            );
        },
      },
    );
  } catch (error) {
    if (error === lastLockError || isLockTimeout(options.dialect, error))
      throw new LockTimeoutExhaustedError(attempts, { cause: error });
    // AbortError carries the original error as its `originalError`.
    const original = (error as { originalError?: unknown }).originalError;
    throw original ?? error;
  }
}

export interface MigrationRetryOptions {
  dialect: Dialect;
  /** The migration, named in `retrying` progress events. */
  name: string;
  /** `migrations.lockTimeout`, in ms, for the progress message. */
  lockTimeoutMs: number;
  retries: number;
  signal?: AbortSignal;
  onProgress?: (p: MigrationProgress) => void;
  /** Who held the lock at the last timeout (blockers.ts), for the `retrying` event. */
  blockers?: () => readonly Blocker[] | undefined;
}

/**
 * The one way migrations retry: `fn` is attempted again after each lock timeout, with backoff,
 * reporting each retry as a `retrying` progress event; aborting `signal` stops the retries.
 */
export function retryMigrationStep<T>(fn: () => Promise<T>, options: MigrationRetryOptions): Promise<T> {
  return retryOnLockTimeout(fn, {
    dialect: options.dialect,
    retries: options.retries,
    ...(options.signal ? { signal: options.signal } : {}),
    onRetry: (attempt, delayMs) => {
      const blockers = options.blockers?.();
      options.onProgress?.({
        type: 'retrying',
        name: options.name,
        attempt,
        message: `lock not granted within ${options.lockTimeoutMs} ms${blockers ? ` (${describeBlockers(blockers)})` : ''}; retrying in ${delayMs} ms`,
        ...(blockers ? { blockers: [...blockers] } : {}),
      });
    },
  });
}
