/**
 * An interrupted run found under the lock (its process is gone: nobody else can hold the lock
 * we hold). Policy: finish it when the window still has time for the rest, else roll it back
 * in its own journal entry; a run that died while rolling back is always rolled back.
 */
import { RolledBackError, WindowError, type MaintError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import type { GuardVerdict } from '../engine/guard.js';
import { rollbackSteps } from '../engine/rollback.js';
import { createRunState } from '../engine/state.js';
import type { StepResult } from '../engine/engine.js';
import type { RunRecord } from '../journal/journal.js';
import type { Prepared } from './prepare.js';
import { announce } from './publish.js';
import { closingPatch } from './run-record.js';
import { stepJson } from './result.js';
import type { RunScope } from './scope.js';

export interface RecoveryDecision {
  action: 'resumed' | 'rolled_back';
  reason: string;
  /** Rolled back for lack of time (exit 3) rather than because it was rolling back already. */
  windowStop: boolean;
}

/** A failed run whose rollback stopped: the next run finishes that rollback. */
const ROLLBACK_UNFINISHED = new Set(['ROLLBACK_FAILED']);

/**
 * Pure: what to do with `interrupted` (a run whose process died, or one that ended `failed`),
 * given where it stopped and the time left.
 */
export function decideRecovery(
  interrupted: RunRecord,
  lastStep: string | undefined,
  verdict: GuardVerdict,
): RecoveryDecision {
  const where = lastStep ? `during step "${lastStep}"` : 'before its first step';
  const failed = interrupted.status === 'failed';
  const who = failed
    ? `run ${interrupted.runId} failed ${where}${interrupted.error ? ` (${interrupted.error.code})` : ''}`
    : `run ${interrupted.runId} (pid ${interrupted.pid} on ${interrupted.host}) stopped ${where}`;
  if (interrupted.status === 'rolling_back')
    return {
      action: 'rolled_back',
      reason: `${who} while it was rolling back, so its rollback is finished now`,
      windowStop: false,
    };
  if (failed && ROLLBACK_UNFINISHED.has(interrupted.error?.code ?? ''))
    return {
      action: 'rolled_back',
      reason: `${who} and its rollback did not finish, so its rollback is finished now`,
      windowStop: false,
    };
  if (!verdict.ok)
    return {
      action: 'rolled_back',
      reason: `${who}, and ${verdict.message.replace(/;.*$/, '')}, so it is rolled back`,
      windowStop: true,
    };
  return {
    action: 'resumed',
    reason: `${who}; the window is still open with time to finish, so it is resumed`,
    windowStop: false,
  };
}

/** Roll back an interrupted run in its own journal entry, then report why (exit 5, or 3). */
export async function rollBackInterrupted(
  scope: RunScope,
  prepared: Prepared,
  interrupted: RunRecord,
  decision: RecoveryDecision,
): Promise<MaintError> {
  const { ports, loaded, events, result } = scope;
  const { steps, estimates } = prepared;
  const old = new Map((await scope.journal.steps(interrupted.runId)).map((s) => [s.name, s]));
  const results: StepResult[] = steps.map((s, i) => {
    const prev = old.get(s.name);
    return {
      name: s.name,
      status: prev?.status ?? 'pending',
      durationMs: prev?.durationMs ?? null,
      estimateMs: estimates[i]!.runMs,
      rollbackMs: null,
      detail: prev?.detail ?? null,
    };
  });
  // Everything the interrupted run started and did not already undo.
  const touched = results
    .map((s, i) => (['pending', 'skipped', 'rolled_back'].includes(s.status) ? -1 : i))
    .filter((i) => i >= 0);
  events.runId = interrupted.runId;
  result.runId = interrupted.runId;
  const state = createRunState(interrupted.state, (key, all) =>
    events.emit('state.set', { key, state: all }),
  );
  const failure = await rollbackSteps(
    {
      runId: interrupted.runId,
      plan: scope.plan,
      windowSpec: loaded.plan.window,
      window: null,
      steps,
      estimates,
      events,
      clock: ports.clock,
      logger: ports.logger,
      db: scope.db,
      lock: scope.lock,
      state,
      ports: scope.stepPorts,
    },
    results,
    touched,
    null,
  );
  result.steps = results.map(stepJson);
  announce(scope.notify, ports.clock, events, {
    plan: loaded.plan,
    runId: interrupted.runId,
    window: prepared.span,
    type: failure ? 'maintenance_failed' : 'maintenance_rolled_back',
    summary: `Maintenance ${loaded.plan.name}: ${decision.reason}.`,
    ...(failure ? { error: failure } : {}),
  });
  result.notifications = await scope.publisher.settle();
  await events.emit('run.updated', {
    patch: closingPatch(
      failure ? 'failed' : 'rolled_back',
      ports.clock,
      failure,
      [
        `recovered by pid ${ports.host.pid}: ${decision.reason}`,
        failure ? `rollback failed: ${failure.message}` : null,
      ],
      result.notifications,
    ),
  });
  if (failure) return failure;
  const next = hint(
    `{status} shows the journal; run {run} again ${decision.windowStop ? 'in the next window' : 'once the cause is fixed'}.`,
    {
      status: act('status', scope.plan.path),
      run: act('run', scope.plan.path),
    },
  );
  const failed = interrupted.status === 'failed';
  const code = failed ? 'FAILED_RUN_ROLLED_BACK' : 'INTERRUPTED_RUN_ROLLED_BACK';
  const message = `rolled back the ${failed ? 'failed' : 'interrupted'} run: ${decision.reason}`;
  return decision.windowStop
    ? new WindowError(code, message, { hint: next })
    : new RolledBackError(code, message, { hint: next });
}
