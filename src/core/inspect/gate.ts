/**
 * `maint gate`: may a deploy proceed now? Refused while a run is in progress, was interrupted or
 * failed without being resolved (exit 6 leaves the database half-way: journal/unresolved.ts),
 * while the lock is held, and when the deploy would apply migrations outside the window. A
 * closed window alone does not refuse: the window guards changes to the database, and a deploy
 * with nothing pending changes only the application.
 */
import type { LockHolder } from '../../db/database.js';
import type { Finding } from '../../lint/types.js';
import { describeHolder } from '../../db/identity.js';
import { changedWarning } from '../../migrations/changed.js';
import type { ChangedMigration } from '../../migrations/migrator.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { windowStatus } from '../../window/window.js';
import { nextJson, type WindowJson } from '../../window/report.js';
import type { Ports } from '../ports.js';
import { lintSelected } from './lint.js';
import { commandLine } from '../../hints.js';
import { needsOperator, resolveAction, runToSettle } from '../journal/unresolved.js';
import { withSnapshot } from './snapshot.js';
import type { FleetState } from '../../fleet/fleet.js';
import { HISTORY_RUNS, checkReleaseGuard, type GuardReport } from '../run/release-guard.js';

export const GATE_REASONS = [
  'ALLOWED',
  'RUN_IN_PROGRESS',
  'RUN_INTERRUPTED',
  'RUN_FAILED',
  'LOCK_HELD',
  'MIGRATION_CHANGED',
  'MIGRATIONS_OUTSIDE_WINDOW',
  'UNSAFE_MIGRATION',
  'CONTRACT_WHILE_OLD_RELEASE_SERVES',
  'ROLLBACK_PAST_CONTRACT',
] as const;
export type GateReason = (typeof GATE_REASONS)[number];

export interface GateResult {
  plan: string;
  allowed: boolean;
  reason: GateReason;
  message: string;
  /** `next`: the next window (one), in the shape every `--json` output uses for windows. */
  window: { open: boolean; remainingSeconds: number | null; next: WindowJson[] };
  pending: string[];
  /** Applied migrations whose files were edited since (refused: `MIGRATION_CHANGED`). */
  changed: ChangedMigration[];
  lock: LockHolder | null;
  run: { runId: string; status: string; startedAt: string } | null;
  /** Error-level lint findings of the pending migrations (with table sizes read from the database). */
  findings: Finding[];
  /** The expand/contract guard's verdict for a plan that rolls a fleet (null otherwise). */
  guard: GuardReport | null;
  error: null;
}

/** The fleet as described now, for a plan that rolls one; read-only, closed before returning. */
async function describeFleet(ports: Ports, loaded: LoadedPlan): Promise<FleetState | null> {
  const { plan } = loaded;
  if (!plan.fleet || !plan.release) return null;
  const fleet = await ports.fleet.open(plan.fleet, loaded, { databaseUrl: plan.database.url });
  try {
    return await fleet.describe();
  } finally {
    await fleet.close().catch(() => undefined);
  }
}

export async function gate(ports: Ports, loaded: LoadedPlan): Promise<GateResult> {
  const { plan } = loaded;
  const now = ports.clock.now();
  const status = windowStatus(plan.window, now, 1);
  const next = status.next[0] ?? null;
  const fleetState = await describeFleet(ports, loaded);
  return withSnapshot(ports, loaded, async ({ db, journal, migrator, pending, changed, lock }) => {
    const interrupted = (await runToSettle(journal, plan.name)) ?? null;
    const guard = fleetState
      ? await checkReleaseGuard({
          caller: 'gate',
          loaded,
          fleet: fleetState,
          runs: await journal.runs(plan.name, HISTORY_RUNS),
          pending: pending.map((p) => p.name),
          order: (await migrator.all()).map((m) => m.name),
        })
      : null;
    // The parser loads only when something is pending.
    const lint =
      pending.length > 0 ? await lintSelected(loaded, new Set(pending.map((p) => p.name)), db) : null;
    const errors = lint?.findings.filter((f) => f.severity === 'error') ?? [];
    const base = {
      plan: plan.name,
      window: {
        open: status.open,
        remainingSeconds: status.remainingSeconds,
        next: nextJson(status.next, plan.window.timezone),
      },
      pending: pending.map((p) => p.name),
      changed,
      lock,
      run: interrupted
        ? { runId: interrupted.runId, status: interrupted.status, startedAt: interrupted.startedAt }
        : null,
      findings: errors,
      guard: guard?.report ?? null,
      error: null,
    } as const;
    const refuse = (reason: GateReason, message: string): GateResult => ({
      ...base,
      allowed: false,
      reason,
      message,
    });
    if (interrupted?.status === 'failed' && !lock) {
      const why = interrupted.error ? ` (${interrupted.error.code}: ${interrupted.error.message})` : '';
      const resolve = commandLine(resolveAction(loaded.path, interrupted.runId));
      return refuse(
        'RUN_FAILED',
        needsOperator(interrupted)
          ? `run ${interrupted.runId} failed at a point of no return and is not resolved${why}; an operator must finish by hand what it left (\`maint status ${loaded.path}\` shows it), then record that with \`${resolve}\``
          : `run ${interrupted.runId} failed and is not resolved${why}; an operator must act: \`maint status ${loaded.path}\` shows what is left, and \`maint run ${loaded.path}\` settles it (resumes it, or finishes its rollback) once the cause is fixed, or \`${resolve}\` records that it was settled by hand`,
      );
    }
    if (interrupted) {
      if (lock)
        return refuse('RUN_IN_PROGRESS', `run ${interrupted.runId} is in progress (${describeHolder(lock)})`);
      return refuse(
        'RUN_INTERRUPTED',
        `run ${interrupted.runId} was interrupted; \`maint run ${loaded.path}\` resumes or rolls it back`,
      );
    }
    if (lock) return refuse('LOCK_HELD', `the lock is held by ${describeHolder(lock)}`);
    if (changed.length > 0)
      return refuse('MIGRATION_CHANGED', changed.map((c) => changedWarning(c, loaded.path)).join('; '));
    if (errors.length > 0) {
      const first = errors[0]!;
      return refuse(
        'UNSAFE_MIGRATION',
        `${errors.length} error-level lint finding${errors.length === 1 ? '' : 's'} in pending migrations; first: ${first.file}:${first.line}:${first.col} ${first.rule}: ${first.message} (\`maint lint ${loaded.path}\` lists them)`,
      );
    }
    if (guard?.error) {
      const code = guard.error.code as GateReason;
      return refuse(
        GATE_REASONS.includes(code) ? code : 'CONTRACT_WHILE_OLD_RELEASE_SERVES',
        `${guard.error.message}${guard.error.hint ? `. ${guard.error.hint}` : ''}`,
      );
    }
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
  });
}
