/**
 * `maint migrate --window` (or `migrations.requireWindow: true`): pending migrations are applied
 * only while the plan's window is open, so a container started outside the window does not
 * migrate. Nothing pending is never refused: a container restarted outside the window must
 * still start.
 */
import { WindowError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import type { MigrationInfo } from '../../migrations/migrator.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { currentWindow, formatLocal, nextWindows } from '../../window/window.js';
import { windowJson } from '../../window/report.js';

/** The refusal for `pending` at `now`, or null when the window is open or nothing is pending. */
export function windowRefusal(loaded: LoadedPlan, pending: MigrationInfo[], now: Date): WindowError | null {
  const { plan } = loaded;
  if (pending.length === 0 || currentWindow(plan.window, now)) return null;
  const zone = plan.window.timezone;
  const next = nextWindows(plan.window, now, 1)[0] ?? null;
  const names = pending.map((m) => m.name).join(', ');
  const when = next ? `${formatLocal(next.start, zone)} (${next.start.toISOString()})` : null;
  return new WindowError(
    'WINDOW_CLOSED',
    `the maintenance window of ${plan.name} is closed now (${formatLocal(now, zone)}) and migrations must wait for it: ${pending.length} pending (${names}); nothing was applied`,
    {
      hint: hint(
        `${when ? `The next window opens ${when}; migrate then` : 'No window is coming; check window: in the plan'} ({window} lists the windows), or apply them now, journaled, with {emergency}.`,
        {
          window: act('window', loaded.path),
          emergency: act('run', loaded.path, { emergency: true, reason: '…' }),
        },
      ),
      details: { nextWindow: next ? windowJson(next, zone) : null, pending: pending.map((m) => m.name) },
    },
  );
}
