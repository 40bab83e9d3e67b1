/**
 * `maint gate`: may a deploy proceed now? Refused while a run is in progress or was interrupted,
 * while the lock is held, while a freeze is in force, and when the deploy would apply migrations
 * outside the window. A closed window alone does not refuse: the window guards changes to the
 * database, and a deploy with nothing pending changes only the application.
 */
import type { LockHolder } from '../db/database.js';
import type { Logger } from '../output/logger.js';
import type { LoadedPlan } from '../plan/loader.js';
import { windowStatus } from '../window/window.js';
import { systemClock, type Clock } from './clock.js';
import { nextWindowAfter } from './guard.js';
import { withSnapshot, type InspectDeps } from './inspect.js';

export const GATE_REASONS = [
  'ALLOWED',
  'RUN_IN_PROGRESS',
  'RUN_INTERRUPTED',
  'LOCK_HELD',
  'FREEZE_IN_FORCE',
  'MIGRATIONS_OUTSIDE_WINDOW',
] as const;
export type GateReason = (typeof GATE_REASONS)[number];

export interface GateResult {
  plan: string;
  allowed: boolean;
  reason: GateReason;
  message: string;
  window: { open: boolean; remainingSeconds: number | null; next: string | null };
  pending: string[];
  lock: LockHolder | null;
  run: { runId: string; status: string; startedAt: string } | null;
  error: null;
}

/** Steps whose being done (and not undone) means writes are frozen. */
const FREEZE_STEPS = new Set(['freeze']);

export async function gate(
  loaded: LoadedPlan,
  options: { clock?: Clock; logger?: Logger; deps?: Partial<InspectDeps> } = {},
): Promise<GateResult> {
  const { plan } = loaded;
  const now = (options.clock ?? systemClock()).now();
  const status = windowStatus(plan.window, now, 1);
  const next = nextWindowAfter(plan.window, now);
  return withSnapshot(
    loaded,
    options.deps,
    async ({ journal, pending, lock }) => {
      const interrupted = (await journal.unfinished(plan.name))[0] ?? null;
      const base = {
        plan: plan.name,
        window: {
          open: status.open,
          remainingSeconds: status.remainingSeconds,
          next: next?.start.toISOString() ?? null,
        },
        pending: pending.map((p) => p.name),
        lock,
        run: interrupted
          ? { runId: interrupted.runId, status: interrupted.status, startedAt: interrupted.startedAt }
          : null,
        error: null,
      } as const;
      const refuse = (reason: GateReason, message: string): GateResult => ({
        ...base,
        allowed: false,
        reason,
        message,
      });
      if (interrupted) {
        const steps = await journal.steps(interrupted.runId);
        const frozen = steps.some(
          (s) =>
            FREEZE_STEPS.has(s.name) &&
            ['running', 'done', 'rolling_back', 'rollback_failed'].includes(s.status),
        );
        if (frozen) return refuse('FREEZE_IN_FORCE', `writes are frozen by run ${interrupted.runId}`);
        if (lock)
          return refuse(
            'RUN_IN_PROGRESS',
            `run ${interrupted.runId} is in progress (${lock.host} pid ${lock.pid}, since ${interrupted.startedAt})`,
          );
        return refuse(
          'RUN_INTERRUPTED',
          `run ${interrupted.runId} was interrupted; \`maint run ${loaded.displayPath}\` resumes or rolls it back`,
        );
      }
      if (lock)
        return refuse(
          'LOCK_HELD',
          `the lock is held by ${lock.host} pid ${lock.pid} (${lock.purpose}) since ${lock.since}`,
        );
      if (pending.length > 0 && !status.open) {
        return refuse(
          'MIGRATIONS_OUTSIDE_WINDOW',
          `${pending.length} migration${pending.length === 1 ? ' is' : 's are'} pending and the window is closed${next ? `; next window ${next.start.toISOString()}` : ''}`,
        );
      }
      return {
        ...base,
        allowed: true,
        reason: 'ALLOWED',
        message:
          pending.length > 0
            ? `the window is open for ${pending.length} pending migration(s)`
            : 'nothing is pending and no run is in progress',
      };
    },
    options.logger,
  );
}
