/**
 * The Clock port. `now()` is wall-clock time for window decisions; durations are measured with
 * `monotonicMs()` so a clock step (NTP, DST, an operator) never stretches or shrinks a step.
 * `MAINT_NOW` pins the real clock's starting instant, after which it advances normally.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { UsageError } from '../errors.js';

export interface Clock {
  now(): Date;
  monotonicMs(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** True when the start instant was pinned (MAINT_NOW): wall time is then not the real time. */
  readonly pinned?: boolean;
  /** The real wall time, even when pinned (what the journal orders runs by). @default now() */
  realNow?(): Date;
}

export function parseMaintNow(value: string): number {
  // Require an explicit offset: a bare local time would depend on the runner's zone.
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value);
  const ms = ok ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`MAINT_NOW="${value}" is not an ISO-8601 instant with a UTC offset`, {
      hint: 'Write it like MAINT_NOW=2026-11-29T20:30:00Z, or unset it to use the real clock.',
    });
  }
  return ms;
}

export function systemClock(env: Record<string, string | undefined> = process.env): Clock {
  const origin = performance.now();
  const pinned = env.MAINT_NOW ? parseMaintNow(env.MAINT_NOW) : undefined;
  return {
    pinned: pinned !== undefined,
    now: () => (pinned === undefined ? new Date() : new Date(pinned + (performance.now() - origin))),
    realNow: () => new Date(),
    monotonicMs: () => performance.now(),
    sleep: async (ms, signal) => {
      await delay(ms, undefined, signal ? { signal } : undefined);
    },
  };
}
