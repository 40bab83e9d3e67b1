/** `maint status`: the journal (current and last runs with their steps) and the lock holder. */
import type { LockHolder } from '../../db/database.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { RunRecord, StepRecord } from '../journal/journal.js';
import { lastServedRelease } from '../engine/state.js';
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
    }
  >;
  pending: string[];
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
  return withSnapshot(ports, loaded, async ({ journal, pending, lock }) => {
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
    const finished = runs.find((r) => r !== unfinished);
    return {
      plan: loaded.plan.name,
      lock,
      current: unfinished ? { ...(await withSteps(unfinished)), live: lock !== null } : null,
      last: finished ? await withSteps(finished) : null,
      runs: runs.map(
        ({ runId, status, startedAt, finishedAt, emergencyReason, note, recordedAt, rehearsal }) => ({
          runId,
          status,
          startedAt,
          finishedAt,
          emergencyReason,
          note,
          recordedAt: recordedAt ?? null,
          rehearsal: rehearsal === true,
        }),
      ),
      pending: pending.map((p) => p.name),
      release: lastServedRelease(runs),
      error: null,
    };
  });
}
