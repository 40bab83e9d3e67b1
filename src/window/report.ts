import type { LoadedPlan } from '../plan/loader.js';
import type { Clock } from '../core/clock.js';
import { formatLocal, windowStatus, type WindowInstance } from './window.js';

export interface WindowReport {
  plan: string;
  timezone: string;
  now: string;
  open: boolean;
  current: { start: string; end: string; startLocal: string; endLocal: string } | null;
  remainingSeconds: number | null;
  next: Array<{ start: string; end: string; startLocal: string; endLocal: string }>;
}

export function windowReport(loaded: LoadedPlan, clock: Clock, count: number): WindowReport {
  const now = clock.now();
  const zone = loaded.plan.window.timezone;
  const status = windowStatus(loaded.plan.window, now, count);
  const show = (w: WindowInstance) => ({
    start: w.start.toISOString(),
    end: w.end.toISOString(),
    startLocal: formatLocal(w.start, zone),
    endLocal: formatLocal(w.end, zone),
  });
  return {
    plan: loaded.plan.name,
    timezone: zone,
    now: now.toISOString(),
    open: status.open,
    current: status.current ? show(status.current) : null,
    remainingSeconds: status.remainingSeconds,
    next: status.next.map(show),
  };
}
