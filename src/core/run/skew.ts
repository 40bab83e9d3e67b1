import type { Database } from '../../db/database.js';
import { formatDuration } from '../../plan/duration.js';
import type { Clock } from '../clock.js';
import type { Emitter } from '../events.js';

/** Clock skew between this machine and the database server worth a warning. */
const SKEW_WARN_MS = 5000;

/** A skewed runner must not misjudge the window: say so before anything starts. */
export async function warnOnSkew(db: Database, clock: Clock, events: Emitter): Promise<void> {
  let server: Date;
  try {
    server = await db.serverTime();
  } catch {
    return; // Not knowing the server's clock is no reason to stop; the window uses ours.
  }
  const skewMs = server.getTime() - clock.now().getTime();
  if (Math.abs(skewMs) <= SKEW_WARN_MS) return;
  events.tell(
    'run.clock_skew',
    { skewMs },
    {
      message: `the database server's clock is ${formatDuration(Math.abs(skewMs))} ${skewMs > 0 ? 'ahead of' : 'behind'} this machine's; window decisions use this machine's clock`,
    },
  );
}
