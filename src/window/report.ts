import type { LoadedPlan } from '../plan/loader.js';
import type { Clock } from '../core/clock.js';
import { formatLocal, windowStatus, type WindowInstance } from './window.js';

/**
 * One window as every `--json` output shows it (`window`'s `current` and `next[]`, `plan`'s and
 * `gate`'s `window.current`/`window.next[]`, the agent's `/status`): instants ISO-8601 UTC, the
 * same instants for people in the plan's zone, and the length in milliseconds.
 */
export interface WindowJson {
  start: string;
  end: string;
  startLocal: string;
  endLocal: string;
  durationMs: number;
}

/** The shared shape of a window in JSON output (see {@link WindowJson}). */
export function windowJson(w: WindowInstance, zone: string): WindowJson {
  return {
    start: w.start.toISOString(),
    end: w.end.toISOString(),
    startLocal: formatLocal(w.start, zone),
    endLocal: formatLocal(w.end, zone),
    durationMs: w.end.getTime() - w.start.getTime(),
  };
}

/** `next` in every JSON output: the windows that start after now, in order (empty when none). */
export function nextJson(next: readonly WindowInstance[], zone: string): WindowJson[] {
  return next.map((w) => windowJson(w, zone));
}

export interface WindowReport {
  plan: string;
  timezone: string;
  now: string;
  open: boolean;
  current: WindowJson | null;
  remainingSeconds: number | null;
  next: WindowJson[];
}

export function windowReport(loaded: LoadedPlan, clock: Clock, count: number): WindowReport {
  const now = clock.now();
  const zone = loaded.plan.window.timezone;
  const status = windowStatus(loaded.plan.window, now, count);
  return {
    plan: loaded.plan.name,
    timezone: zone,
    now: now.toISOString(),
    open: status.open,
    current: status.current ? windowJson(status.current, zone) : null,
    remainingSeconds: status.remainingSeconds,
    next: nextJson(status.next, zone),
  };
}
