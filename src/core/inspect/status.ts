/** `maint status`: the journal (current and last runs with their steps) and the lock holder. */
import type { LockHolder } from '../../db/database.js';
import { changedWarning } from '../../migrations/changed.js';
import type { ChangedMigration } from '../../migrations/migrator.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { RunRecord, StepRecord } from '../journal/journal.js';
import { isRecordOnly, lastServedRelease, resolutionOf, type Resolution } from '../engine/state.js';
import type { Ports } from '../ports.js';
import { withSnapshot } from './snapshot.js';

export interface RunWithSteps extends Omit<RunRecord, 'notifications'> {
  steps: Array<Pick<StepRecord, 'seq' | 'name' | 'status' | 'durationMs' | 'rollbackMs'>>;
  notifications: number;
}

export interface StatusReport {
  plan: string;
  lock: LockHolder | null;
  /** A run still marked running/rolling back (in progress if the lock is held, else interrupted). */
  current: (RunWithSteps & { live: boolean }) | null;
  last: RunWithSteps | null;
  /** The most recent runs (`limit`), newest first by the real time they were journaled. */
  runs: Array<
    Pick<RunRecord, 'runId' | 'status' | 'startedAt' | 'finishedAt' | 'emergencyReason' | 'note'> & {
      recordedAt: string | null;
      rehearsal: boolean;
      /** `accept`: a `maint migrate accept` record (ran no steps; its note says what it accepted). */
      kind: 'run' | 'accept';
      /** A failed run an operator resolved (`maint resolve`): why, who, when. */
      resolution: Resolution | null;
    }
  >;
  pending: string[];
  /** Applied migrations whose files were edited since (`run` refuses until restored or accepted). */
  changed: ChangedMigration[];
  /** What needs an operator's attention, for people (a changed migration names its accept command). */
  warnings: string[];
  /**
   * The release the fleet serves, as the newest run that rolled (or rolled back) it journaled;
   * null when no run has.
   */
  release: string | null;
  error: null;
}

export async function planStatus(
  ports: Ports,
  loaded: LoadedPlan,
  options: { limit?: number } = {},
): Promise<StatusReport> {
  return withSnapshot(ports, loaded, async ({ journal, pending, changed, lock }) => {
    const runs = await journal.runs(loaded.plan.name, options.limit ?? 10);
    const withSteps = async (run: RunRecord): Promise<RunWithSteps> => ({
      ...run,
      notifications: run.notifications?.length ?? 0,
      steps: (await journal.steps(run.runId)).map(({ seq, name, status, durationMs, rollbackMs }) => ({
        seq,
        name,
        status,
        durationMs,
        rollbackMs,
      })),
    });
    const unfinished = runs.find((r) => r.status === 'running' || r.status === 'rolling_back');
    // The last run that ran steps; an acceptance record is listed among the runs below.
    const finished = runs.find((r) => r !== unfinished && !isRecordOnly(r));
    return {
      plan: loaded.plan.name,
      lock,
      current: unfinished ? { ...(await withSteps(unfinished)), live: lock !== null } : null,
      last: finished ? await withSteps(finished) : null,
      runs: runs.map((run) => ({
        runId: run.runId,
        status: run.status,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
        emergencyReason: run.emergencyReason,
        note: run.note,
        recordedAt: run.recordedAt ?? null,
        rehearsal: run.rehearsal === true,
        kind: isRecordOnly(run) ? ('accept' as const) : ('run' as const),
        resolution: resolutionOf(run),
      })),
      pending: pending.map((p) => p.name),
      changed,
      warnings: changed.map((c) => changedWarning(c, loaded.path)),
      release: lastServedRelease(runs),
      error: null,
    };
  });
}
