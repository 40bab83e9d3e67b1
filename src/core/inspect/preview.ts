/**
 * `maint plan`: what `maint run` would do now — window state, pending migrations, checks, the
 * ordered steps with their estimates against the time left — without changing anything.
 */
import type { LockHolder } from '../../db/database.js';
import type { Finding } from '../../lint/types.js';
import { describeHolder } from '../../db/identity.js';
import { LockHeldError, WindowError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import { changedError, changedWarning } from '../../migrations/changed.js';
import type { ChangedMigration, PendingMigration } from '../../migrations/migrator.js';
import { hasWork } from '../../operations/pending.js';
import { formatDuration } from '../../plan/duration.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { buildSteps, fleetInput, strategyKind } from '../../strategies/index.js';
import { lastServedRelease } from '../engine/state.js';
import { windowStatus } from '../../window/window.js';
import { nextJson, windowJson, type WindowJson } from '../../window/report.js';
import { estimateSteps } from '../engine/estimates.js';
import { checkTime, describeNext, nextWindowAfter } from '../engine/guard.js';
import type { RollPreview } from '../../fleet/fleet.js';
import type { Ports } from '../ports.js';
import { preflight, type OpenedFleet } from '../preflight.js';
import { HISTORY_RUNS, checkReleaseGuard, type GuardReport } from '../run/release-guard.js';
import { errorJson, type ErrorJson } from '../result.js';
import { lintSelected } from './lint.js';
import { needsOperator, runToSettle, unresolvedError } from '../journal/unresolved.js';
import { withSnapshot } from './snapshot.js';

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
  error: ErrorJson | null;
  window: {
    open: boolean;
    remainingSeconds: number | null;
    current: WindowJson | null;
    /** The next window (one), in the shape every `--json` output uses for windows. */
    next: WindowJson[];
  };
  pending: PendingMigration[];
  /** Applied migrations whose files were edited since: `maint run` refuses (exit 2) until accepted. */
  changed: ChangedMigration[];
  /** `maint lint` on the pending migrations: each one's expand/contract classification and the findings. */
  lint: {
    migrations: Array<{
      file: string;
      classification: 'expand' | 'contract';
      classifiedBy: 'parse' | 'override';
    }>;
    findings: Finding[];
    errors: number;
    warnings: number;
  };
  checks: Array<{ name: string; expect: string | number }>;
  /** Every operation of the plan; `pending`: `maint run` would run it (no completed run has). */
  operations: Array<{ name: string; kind: string; when: string; pending: boolean }>;
  lock: LockHolder | null;
  /** The fleet roll `maint run` would do: batches and estimates (null without `fleet:`). */
  fleet: (RollPreview & { serving: string | null; pending: boolean }) | null;
  /** The expand/contract guard's verdict on the roll (null without `fleet:` and `release`). */
  guard: GuardReport | null;
  /** An interrupted or failed run `maint run` would resume or roll back first. */
  interruptedRun: { runId: string; status: string; startedAt: string } | null;
  /** What the run could not undo, said before it starts (a pending migration without a down file...). */
  warnings: string[];
}

export async function previewPlan(ports: Ports, loaded: LoadedPlan): Promise<PlanPreview> {
  const opened = await preflight(ports, loaded, { keepFleet: true });
  try {
    return await previewWith(ports, loaded, opened);
  } finally {
    await opened?.fleet.close().catch(() => undefined);
  }
}

async function previewWith(
  ports: Ports,
  loaded: LoadedPlan,
  opened: OpenedFleet | null,
): Promise<PlanPreview> {
  const { plan } = loaded;
  const now = ports.clock.now();
  const status = windowStatus(plan.window, now, 1);
  const next = nextWindowAfter(plan.window, now);
  return withSnapshot(ports, loaded, async ({ db, journal, migrator, pending, changed, work, lock }) => {
    const lint =
      pending.length > 0
        ? await lintSelected(loaded, new Set(pending.map((p) => p.name)), db)
        : { files: [], findings: [], errors: 0, warnings: 0 };
    const span = status.current ?? next ?? { start: now, end: now };
    const runs = opened ? await journal.runs(plan.name, HISTORY_RUNS) : [];
    const fleet = opened ? fleetInput(opened, loaded, work, lastServedRelease(runs)) : undefined;
    const guard = opened
      ? await checkReleaseGuard({
          caller: 'run',
          loaded,
          fleet: opened.state,
          runs,
          pending: pending.map((p) => p.name),
          order: (await migrator.all()).map((m) => m.name),
        })
      : null;
    const steps = buildSteps({ loaded, work, window: span, ...(fleet ? { fleet } : {}) });
    const estimates = estimateSteps(steps, {
      planEstimateMs: plan.estimate,
      history: await journal.history(plan.name, 200),
    });
    const total = estimates.reduce((s, e) => s + e.runMs, 0);
    const interrupted = (await runToSettle(journal, plan.name)) ?? null;
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
        current: status.current ? windowJson(status.current, plan.window.timezone) : null,
        next: nextJson(next ? [next] : [], plan.window.timezone),
      },
      pending,
      changed,
      lint: {
        migrations: lint.files.map((f) => ({
          file: f.file,
          classification: f.classification,
          classifiedBy: f.classifiedBy,
        })),
        findings: lint.findings,
        errors: lint.errors,
        warnings: lint.warnings,
      },
      checks: plan.checks.map((c) => ({ name: c.name, expect: c.expect })),
      operations: plan.operations.map((op) => ({
        name: op.name,
        kind: op.kind,
        when: op.when,
        pending: work.operations.includes(op),
      })),
      lock,
      fleet: fleet
        ? { ...fleet.preview, serving: fleet.previous, pending: fleet.previous !== fleet.release }
        : null,
      guard: guard?.report ?? null,
      interruptedRun: interrupted
        ? { runId: interrupted.runId, status: interrupted.status, startedAt: interrupted.startedAt }
        : null,
      warnings: [
        ...(typeof plan.strategy === 'object' &&
        plan.strategy.kind === 'clone-freeze' &&
        plan.strategy.clone.method === 'template'
          ? [
              'clone method template is OFFLINE: during the copy (CREATE DATABASE … TEMPLATE) every session on the live database is ended and new ones refused, so reads stop as well as writes; afterwards the old database stays read-only for the application',
            ]
          : []),
        ...changed.map((c) => changedWarning(c, loaded.path)),
        ...pending
          .filter((m) => !m.hasDown)
          .map(
            (m) =>
              `${m.file} has no down file: if the run fails after applying it, it cannot be rolled back (exit 6)`,
          ),
      ],
    };
    if (!verdict.ok) {
      preview.status = 'refused';
      preview.error = errorJson(
        new WindowError(verdict.code, verdict.message, {
          hint: hint('Run {run} in the next window; {window} lists them.', {
            run: act('run', loaded.path),
            window: act('window', loaded.path),
          }),
        }),
      );
    } else if (needsOperator(interrupted)) {
      // What `maint run` would exit with (6): only an operator resolves a point of no return.
      preview.status = 'refused';
      preview.error = errorJson(unresolvedError(interrupted!, loaded.path));
    } else if (changed.length > 0) {
      // What `maint run` would exit with (2): it refuses to build on a changed history.
      preview.status = 'refused';
      preview.error = errorJson(changedError(changed).bindPlan(loaded.path));
    } else if (lock) {
      preview.status = 'locked';
      preview.error = errorJson(
        new LockHeldError(`the lock is held by ${describeHolder(lock)}`, {
          hint: hint('See {status} and {lock}.', {
            status: act('status', loaded.path),
            lock: act('lock', loaded.path),
          }),
        }),
      );
    } else if (!hasWork(work) && !interrupted && !preview.fleet?.pending) {
      preview.status = 'nothing_pending';
    }
    return preview;
  });
}
