import { describeHolder } from '../../db/identity.js';
import type { Step } from '../../core/engine/step.js';

/**
 * Holds the single-runner lock for the whole run. The run takes the lock before it reads the
 * journal (so it alone decides about an interrupted run); this step records the holder and
 * confirms the lock is still ours. Its rollback is empty: the lock is released when the run ends.
 */
export function lockStep(): Step {
  return {
    name: 'lock',
    defaultEstimateMs: 200,
    defaultRollbackMs: 0,
    async run(ctx) {
      await ctx.lock.verify();
      const h = ctx.lock.holder;
      return { summary: `held by ${describeHolder(h)}`, lockId: h.lockId, host: h.host, pid: h.pid };
    },
    async rollback() {
      return { summary: 'released when the run ends' };
    },
  };
}
