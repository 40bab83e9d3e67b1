/**
 * `maint plan`: what `maint run` would do now — window state, pending migrations, checks, the
 * ordered steps with their estimates against the time left — without changing anything.
 */
import type { LockHolder } from '../db/database.js';
import type { MigrationInfo } from '../migrations/migrator.js';
import type { Logger } from '../output/logger.js';
import type { LoadedPlan } from '../plan/loader.js';
import { assertSupported, buildSteps, strategyKind } from '../strategies/index.js';
import { formatLocal, windowStatus } from '../window/window.js';
import { systemClock, type Clock } from './clock.js';
import { estimateSteps } from './estimates.js';
import { checkTime, describeNext, nextWindowAfter } from './guard.js';
import { formatDuration } from '../plan/duration.js';
import { withSnapshot, type InspectDeps } from './inspect.js';
import { hasWork } from '../operations/pending.js';

export interface PlanPreview {
  plan: string;
  runId: null;
  /** `would_run`: `maint run` would start now; `nothing_pending`: it would finish at once. */
  status: 'would_run' | 'nothing_pending' | 'refused' | 'locked';
  strategy: string;
  steps: Array<{
    name: string;
    status: 'planned';
    durationMs: null;
    estimateMs: number;
    rollbackEstimateMs: number;
    source: string;
  }>;
  totalEstimateMs: number;
  notifications: [];
  error: { code: string; message: string; hint: string | null } | null;
  window: {
    open: boolean;
    remainingSeconds: number | null;
    current: { start: string; end: string } | null;
    next: { start: string; end: string; startLocal: string } | null;
  };
  pending: MigrationInfo[];
  checks: Array<{ name: string; expect: string | number }>;
  /** Every operation of the plan; `pending`: `maint run` would run it (no completed run has). */
  operations: Array<{ name: string; kind: string; when: string; pending: boolean }>;
  lock: LockHolder | null;
  /** An interrupted run `maint run` would resume or roll back first. */
  interruptedRun: { runId: string; status: string; startedAt: string } | null;
}

export async function previewPlan(
  loaded: LoadedPlan,
  options: { clock?: Clock; logger?: Logger; deps?: Partial<InspectDeps> } = {},
): Promise<PlanPreview> {
  const { plan } = loaded;
  assertSupported(plan);
  const clock = options.clock ?? systemClock();
  const now = clock.now();
  const status = windowStatus(plan.window, now, 1);
  const next = nextWindowAfter(plan.window, now);
  return withSnapshot(
    loaded,
    options.deps,
    async ({ journal, migrator, pending, work, lock }) => {
      const span = status.current ?? next ?? { start: now, end: now };
      const steps = buildSteps({
        plan,
        planDir: loaded.dir,
        planPath: loaded.displayPath,
        migrator,
        pendingCount: pending.length,
        window: span,
        operations: work.operations,
        migrationsAbsent: work.migrationsAbsent,
      });
      const estimates = estimateSteps(steps, {
        planEstimateMs: plan.estimate,
        history: await journal.history(plan.name, 200),
      });
      const total = estimates.reduce((s, e) => s + e.runMs, 0);
      const interrupted = (await journal.unfinished(plan.name))[0] ?? null;
      // checkTime treats a null window as an emergency run; for a preview, closed means refused.
      const verdict = status.current
        ? checkTime(plan.window, status.current, now, total, `the run (estimate ${formatDuration(total)})`)
        : ({
            ok: false,
            code: 'WINDOW_CLOSED',
            message: `the maintenance window is closed now; ${describeNext(plan.window, next)}`,
          } as const);
      const preview: PlanPreview = {
        plan: plan.name,
        runId: null,
        status: 'would_run',
        strategy: strategyKind(plan),
        steps: steps.map((s, i) => ({
          name: s.name,
          status: 'planned',
          durationMs: null,
          estimateMs: estimates[i]!.runMs,
          rollbackEstimateMs: estimates[i]!.rollbackMs,
          source: estimates[i]!.source,
        })),
        totalEstimateMs: total,
        notifications: [],
        error: null,
        window: {
          open: status.open,
          remainingSeconds: status.remainingSeconds,
          current: status.current
            ? { start: status.current.start.toISOString(), end: status.current.end.toISOString() }
            : null,
          next: next
            ? {
                start: next.start.toISOString(),
                end: next.end.toISOString(),
                startLocal: formatLocal(next.start, plan.window.timezone),
              }
            : null,
        },
        pending,
        checks: plan.checks.map((c) => ({ name: c.name, expect: c.expect })),
        operations: plan.operations.map((op) => ({
          name: op.name,
          kind: op.kind,
          when: op.when,
          pending: work.operations.includes(op),
        })),
        lock,
        interruptedRun: interrupted
          ? { runId: interrupted.runId, status: interrupted.status, startedAt: interrupted.startedAt }
          : null,
      };
      if (!verdict.ok) {
        preview.status = 'refused';
        preview.error = {
          code: verdict.code,
          message: verdict.message,
          hint: `Run \`maint run ${loaded.displayPath}\` in the next window; \`maint window ${loaded.displayPath}\` lists them.`,
        };
      } else if (lock) {
        preview.status = 'locked';
        preview.error = {
          code: 'LOCK_HELD',
          message: `the lock is held by ${lock.host} pid ${lock.pid} (${lock.purpose}) since ${lock.since}`,
          hint: `See \`maint status ${loaded.displayPath}\` and \`maint lock ${loaded.displayPath}\`.`,
        };
      } else if (!hasWork(work) && !interrupted) {
        preview.status = 'nothing_pending';
      }
      return preview;
    },
    options.logger,
  );
}
