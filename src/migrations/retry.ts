/**
 * Retrying a statement that could not get its table lock in time, with capped exponential backoff
 * and jitter (p-retry runs the attempts; the schedule is ours). Only lock timeouts are retried;
 * any other error ends the attempts at once.
 *
 * The schedule serves the application: each attempt queues live queries for at most
 * `lockTimeout`, and between attempts they run freely. The delay doubles from about 100 ms but
 * never exceeds 1 s, so once the blocking transaction ends the statement lands within about a
 * second (at once when an attempt is waiting at that moment); uncapped, it had grown to several
 * seconds by the time a 15 s blocker ended (issue 14, bench/lock-queue.bench.js).
 */
import pRetry, { AbortError } from 'p-retry';
import { abortableSleep } from '../db/common.js';
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
  /** @default RETRY_MIN_DELAY_MS */
  minDelayMs?: number;
  /** @default RETRY_MAX_DELAY_MS */
  maxDelayMs?: number;
  /** @default Math.random (tests pass their own) */
  random?: () => number;
}

/** The first retry comes after about this long… */
export const RETRY_MIN_DELAY_MS = 100;
/** …and no two attempts are ever further apart than this (the delay doubles up to it). */
export const RETRY_MAX_DELAY_MS = 1000;

/** The delay before retry number `attempt` (1-based), before jitter. Exported for tests. */
export function backoffDelay(
  attempt: number,
  minDelayMs = RETRY_MIN_DELAY_MS,
  maxDelayMs = RETRY_MAX_DELAY_MS,
): number {
  return Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1));
}

/**
 * The delay actually waited before retry `attempt`: between half the backoff delay and all of it
 * ("equal jitter"), so runners retrying the same table spread out, and the cap still holds.
 */
export function jitteredDelay(
  attempt: number,
  minDelayMs = RETRY_MIN_DELAY_MS,
  maxDelayMs = RETRY_MAX_DELAY_MS,
  random: () => number = Math.random,
): number {
  const delay = backoffDelay(attempt, minDelayMs, maxDelayMs);
  return Math.round(delay / 2 + (random() * delay) / 2);
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
        // p-retry waits nothing itself: the jittered, capped delay is waited below.
        minTimeout: 0,
        maxTimeout: 0,
        randomize: false,
        ...(options.signal ? { signal: options.signal } : {}),
        onFailedAttempt: async (e) => {
          if (e.retriesLeft <= 0) return;
          const delayMs = jitteredDelay(
            e.attemptNumber,
            options.minDelayMs,
            options.maxDelayMs,
            options.random,
          );
          options.onRetry?.(e.attemptNumber, delayMs);
          await abortableSleep(delayMs, options.signal);
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
