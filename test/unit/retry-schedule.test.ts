/**
 * The retry schedule of a DDL that hit its lock timeout (issue 14): capped at 1 s between
 * attempts, jittered, and long enough by default to ride out a 15 s blocker.
 */
import { describe, expect, it } from 'vitest';
import { QueryError } from '../../src/db/errors.js';
import {
  backoffDelay,
  jitteredDelay,
  RETRY_MAX_DELAY_MS,
  retryOnLockTimeout,
} from '../../src/migrations/retry.js';
import { MigrationsSchema } from '../../src/plan/schema.js';

const lockError = () => new QueryError('lock timeout', { sqlState: '55P03' });

describe('the retry schedule', () => {
  it('starts near 100 ms, doubles, and never exceeds 1 s', () => {
    expect([1, 2, 3, 4, 5, 6, 30].map((n) => backoffDelay(n))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ]);
    expect(RETRY_MAX_DELAY_MS).toBe(1000);
  });

  it('jitters between half the delay and all of it, so the cap holds', () => {
    for (const attempt of [1, 4, 5, 30]) {
      const d = backoffDelay(attempt);
      expect(jitteredDelay(attempt, undefined, undefined, () => 0)).toBe(d / 2);
      expect(jitteredDelay(attempt, undefined, undefined, () => 0.999999)).toBe(d);
      expect(jitteredDelay(attempt, undefined, undefined, () => 0.5)).toBe(Math.round(0.75 * d));
    }
  });

  it('reports the delay it waits before each retry', async () => {
    let calls = 0;
    const reported: Array<[number, number]> = [];
    const value = await retryOnLockTimeout(
      async () => {
        if (++calls < 4) throw lockError();
        return calls;
      },
      {
        dialect: 'postgres',
        retries: 5,
        minDelayMs: 4,
        maxDelayMs: 8,
        random: () => 0,
        onRetry: (attempt, delayMs) => reported.push([attempt, delayMs]),
      },
    );
    expect(value).toBe(4);
    expect(reported).toEqual([
      [1, 2],
      [2, 4],
      [3, 4],
    ]);
  });

  it('stops waiting when aborted between attempts', async () => {
    const controller = new AbortController();
    const reason = new Error('stopped');
    let calls = 0;
    const attempt = retryOnLockTimeout(
      async () => {
        calls++;
        throw lockError();
      },
      {
        dialect: 'postgres',
        retries: 5,
        minDelayMs: 60_000,
        maxDelayMs: 60_000,
        signal: controller.signal,
        onRetry: () => controller.abort(reason),
      },
    );
    await expect(attempt).rejects.toBe(reason);
    expect(calls).toBe(1);
  });

  it('defaults: lockTimeout 400 ms, 30 retries, enough to ride out a 15 s blocker', () => {
    const m = MigrationsSchema.parse({});
    expect(m.lockTimeout).toBe(400);
    expect(m.retries).toBe(30);
    // The shortest the attempts can span: every attempt waits its lock timeout, every delay its least.
    let span = m.lockTimeout;
    for (let n = 1; n <= m.retries; n++) span += backoffDelay(n) / 2 + m.lockTimeout;
    expect(span).toBeGreaterThan(15_000);
  });
});
