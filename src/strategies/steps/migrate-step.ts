import type { Step } from '../../engine/step.js';
import type { Migrator } from '../../migrations/migrator.js';

/**
 * Applies the pending migrations (each under the migrator's lock timeout and retries). Rollback
 * reverts, newest first, everything applied after the baseline, so it is right whether the step
 * finished, failed halfway or was cancelled.
 */
export function migrateStep(options: { migrator: Migrator; pendingCount: number }): Step {
  const estimate = 2000 * Math.max(1, options.pendingCount);
  return {
    name: 'migrate',
    defaultEstimateMs: estimate,
    defaultRollbackMs: estimate,
    async run(ctx) {
      const applied = await options.migrator.up({
        signal: ctx.signal,
        // The lock is re-checked before every migration, not only before the step.
        beforeMigration: async () => ctx.lock?.verify(),
        onProgress: (p) => {
          if (p.type === 'migrated')
            ctx.progress(`migrated ${p.name}${p.durationMs !== undefined ? ` (${p.durationMs}ms)` : ''}`);
          else if (p.type === 'retrying')
            ctx.progress(`${p.name}: lock timeout, retry ${p.attempt ?? ''}`.trim());
        },
      });
      const names = applied.map((m) => m.name);
      return {
        summary: names.length === 0 ? 'nothing pending' : `applied ${names.join(', ')}`,
        applied: names,
      };
    },
    async rollback(ctx) {
      // Without a baseline nothing was migrated (the baseline step precedes this one).
      if (!ctx.state.baseline) return { summary: 'nothing to revert', reverted: [] };
      const reverted = await options.migrator.down({
        to: ctx.state.baseline.appliedBefore ?? 0,
        signal: ctx.signal,
        onProgress: (p) => {
          if (p.type === 'reverted') ctx.progress(`reverted ${p.name}`);
        },
      });
      const names = reverted.map((m) => m.name);
      return {
        summary: names.length === 0 ? 'nothing to revert' : `reverted ${names.join(', ')}`,
        reverted: names,
      };
    },
  };
}
