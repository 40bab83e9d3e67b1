/**
 * The window guard: may the run start, may the next step start? Pure decisions over the window,
 * the clock and the estimates; the engine acts on them.
 */
import { formatDuration } from '../../plan/duration.js';
import type { WindowSpec } from '../../plan/schema.js';
import { currentWindow, formatLocal, nextWindows, type WindowInstance } from '../../window/window.js';

export type GuardVerdict =
  | { ok: true; remainingMs: number | null }
  | {
      ok: false;
      code: 'WINDOW_CLOSED' | 'WINDOW_TOO_SHORT';
      message: string;
      remainingMs: number;
      neededMs: number;
      next: WindowInstance | null;
    };

export function nextWindowAfter(spec: WindowSpec, now: Date): WindowInstance | null {
  return nextWindows(spec, now, 1)[0] ?? null;
}

export function describeNext(spec: WindowSpec, next: WindowInstance | null): string {
  return next
    ? `next window: ${next.start.toISOString()} (${formatLocal(next.start, spec.timezone)})`
    : 'no next window found';
}

/** Is the window open now, with enough time for `neededMs`? `window` null means an emergency run. */
export function checkTime(
  spec: WindowSpec,
  window: WindowInstance | null,
  now: Date,
  neededMs: number,
  what: string,
): GuardVerdict {
  if (window === null) return { ok: true, remainingMs: null };
  const remainingMs = window.end.getTime() - now.getTime();
  if (now.getTime() < window.start.getTime() || remainingMs <= 0) {
    const next = nextWindowAfter(spec, now);
    return {
      ok: false,
      code: 'WINDOW_CLOSED',
      message: `the maintenance window is closed (it ended ${formatLocal(window.end, spec.timezone)}); ${describeNext(spec, next)}`,
      remainingMs: Math.max(0, remainingMs),
      neededMs,
      next,
    };
  }
  if (remainingMs < neededMs) {
    const next = nextWindowAfter(spec, now);
    return {
      ok: false,
      code: 'WINDOW_TOO_SHORT',
      message: `${formatDuration(remainingMs)} left in the window, but ${what} needs about ${formatDuration(neededMs)}; ${describeNext(spec, next)}`,
      remainingMs,
      neededMs,
      next,
    };
  }
  return { ok: true, remainingMs };
}

/** The window the run belongs to: the open one, or null (closed). */
export function openWindow(spec: WindowSpec, now: Date): WindowInstance | null {
  return currentWindow(spec, now);
}
