/**
 * The engine: runs a step list in order under the window guard, journals every transition
 * before and after it happens, cancels a step still running when the window ends, and rolls
 * back in reverse on failure. It never prints: it reports through `onProgress`.
 */
import type { Database, LockSession } from '../db/database.js';
import { MaintError, OperatorActionError, RolledBackError, WindowError, toMaintError } from '../errors.js';
import type { Logger } from '../output/logger.js';
import { redact } from '../output/redact.js';
import type { WindowSpec } from '../plan/schema.js';
import { formatLocal, type WindowInstance } from '../window/window.js';
import type { Clock } from './clock.js';
import type { StepEstimate } from './estimates.js';
import type { RunProgressEvent } from './events.js';
import { checkTime } from './guard.js';
import type { Journal, StepRecord } from './journal.js';
import {
  failureDetail,
  type RunState,
  type Step,
  type StepContext,
  type StepDetail,
  type StepStatus,
} from './step.js';

export interface EngineInput {
  runId: string;
  /** Plan path as the user wrote it, for hints. */
  planPath: string;
  windowSpec: WindowSpec;
  /** The window the run belongs to; null for an emergency run (no guard, no deadline). */
  window: WindowInstance | null;
  steps: readonly Step[];
  estimates: readonly StepEstimate[];
  journal: Journal;
  clock: Clock;
  logger: Logger;
  db: Database | null;
  lock: LockSession | null;
  state: RunState;
  onProgress?: (event: RunProgressEvent) => void;
  /** Stops the run from outside (SIGINT/SIGTERM): the current step is cancelled, then rollback. */
  signal?: AbortSignal;
}

export interface StepResult {
  name: string;
  status: StepStatus;
  durationMs: number | null;
  estimateMs: number;
  rollbackMs: number | null;
  detail: StepDetail | null;
}

export type EngineStatus = 'completed' | 'rolled_back' | 'rescheduled' | 'failed';

export interface EngineResult {
  status: EngineStatus;
  steps: StepResult[];
  /** Why the run did not complete. */
  error: MaintError | null;
  /** For a window stop: the error's code (WINDOW_TOO_SHORT / WINDOW_ENDED). */
  windowStop: boolean;
}

/** A step was cancelled because the window ended. */
export class WindowEndedError extends WindowError {
  constructor(message: string) {
    super('WINDOW_ENDED', message);
  }
}

export async function runSteps(input: EngineInput): Promise<EngineResult> {
  const results: StepResult[] = input.steps.map((s, i) => ({
    name: s.name,
    status: 'pending',
    durationMs: null,
    estimateMs: input.estimates[i]?.runMs ?? s.defaultEstimateMs,
    rollbackMs: null,
    detail: null,
  }));
  const touched: number[] = [];

  for (const [seq, step] of input.steps.entries()) {
    // Safe point: the step has not started, and what is done can still be undone in time.
    const undoMs = touched.reduce((sum, i) => sum + (input.estimates[i]?.rollbackMs ?? 0), 0);
    // A point of no return (no rollback) starts only when the rest of the run fits after it too:
    // once it is done, stopping for the window can no longer put things back.
    const restMs = results.slice(seq).reduce((sum, r) => sum + r.estimateMs, 0);
    const verdict = checkTime(
      input.windowSpec,
      input.window,
      input.clock.now(),
      step.rollback ? results[seq]!.estimateMs + undoMs : restMs,
      step.rollback
        ? `step "${step.name}" (and undoing what is done)`
        : `step "${step.name}" (a point of no return) and the steps after it`,
    );
    if (!verdict.ok) {
      const error = new WindowError(verdict.code, `stopped before "${step.name}": ${verdict.message}`, {
        hint: `Nothing was left half-done. Run \`maint run ${input.planPath}\` in the next window, or raise the plan's window duration.`,
        details: {
          remainingMs: verdict.remainingMs,
          neededMs: verdict.neededMs,
          nextWindow: verdict.next?.start.toISOString() ?? null,
        },
      });
      for (const r of results.slice(seq)) r.status = 'skipped';
      return finishWithRollback(input, results, touched, error, true);
    }
    if (input.signal?.aborted) {
      return finishWithRollback(input, results, touched, toMaintError(input.signal.reason), false);
    }

    const started = input.clock.now().toISOString();
    const t0 = input.clock.monotonicMs();
    const record = (status: StepStatus, extra: Partial<StepRecord> = {}): StepRecord => ({
      runId: input.runId,
      seq,
      name: step.name,
      status,
      startedAt: started,
      finishedAt: null,
      durationMs: null,
      rollbackMs: null,
      detail: null,
      ...extra,
    });

    const controller = new AbortController();
    const stopTimer = new AbortController();
    try {
      // The lock is verified before each step: a lost lock means someone else may be running.
      await input.lock?.verify();
      await input.journal.putStep(record('running'));
      touched.push(seq);
      results[seq]!.status = 'running';
      input.onProgress?.({
        type: 'step',
        seq,
        name: step.name,
        status: 'running',
        estimateMs: results[seq]!.estimateMs,
      });
      armDeadline(input, controller, stopTimer.signal);
      const onOuterAbort = () => controller.abort(input.signal?.reason);
      input.signal?.addEventListener('abort', onOuterAbort, { once: true });
      let detail: StepDetail | void;
      try {
        detail = await step.run(contextFor(input, controller.signal));
        if (controller.signal.aborted) throw controller.signal.reason;
        await step.verify?.(contextFor(input, controller.signal));
      } finally {
        input.signal?.removeEventListener('abort', onOuterAbort);
      }
      const durationMs = Math.round(input.clock.monotonicMs() - t0);
      results[seq] = { ...results[seq]!, status: 'done', durationMs, detail: detail ?? null };
      await input.journal.putStep(
        record('done', { finishedAt: input.clock.now().toISOString(), durationMs, detail: detail ?? null }),
      );
      input.onProgress?.({
        type: 'step',
        seq,
        name: step.name,
        status: 'done',
        durationMs,
        ...(detail && typeof detail.summary === 'string' ? { message: detail.summary } : {}),
      });
    } catch (thrown) {
      const reason =
        controller.signal.aborted && controller.signal.reason !== undefined
          ? controller.signal.reason
          : thrown;
      const error = toMaintError(reason);
      const status: StepStatus = controller.signal.aborted ? 'cancelled' : 'failed';
      const durationMs = Math.round(input.clock.monotonicMs() - t0);
      const message = redact(error.message);
      // What the step itself threw may carry facts to keep (a command's output), even when cancelled.
      const detail: StepDetail = { ...failureDetail(thrown), error: { code: error.code, message } };
      results[seq] = { ...results[seq]!, status, durationMs, detail };
      for (const r of results.slice(seq + 1)) r.status = 'skipped';
      input.onProgress?.({ type: 'step', seq, name: step.name, status, durationMs, message });
      await input.journal
        .putStep(
          record(status, {
            finishedAt: input.clock.now().toISOString(),
            durationMs,
            detail,
          }),
        )
        .catch((e: unknown) =>
          input.logger.warn(`could not journal the failure of step "${step.name}": ${(e as Error).message}`),
        );
      if (error.code === 'LOCK_LOST') {
        // Another runner may hold the lock now: undoing our work could collide with theirs.
        await input.journal.updateRun(input.runId, { status: 'failed' }).catch(() => undefined);
        return { status: 'failed', steps: results, error, windowStop: false };
      }
      return finishWithRollback(input, results, touched, error, error instanceof WindowError);
    } finally {
      stopTimer.abort();
    }
  }
  return { status: 'completed', steps: results, error: null, windowStop: false };
}

function contextFor(input: EngineInput, signal: AbortSignal): StepContext {
  return {
    signal,
    db: input.db,
    lock: input.lock,
    logger: input.logger,
    clock: input.clock,
    runId: input.runId,
    state: input.state,
    progress: (message) => input.onProgress?.({ type: 'notice', level: 'info', message }),
  };
}

/** Abort the step when the window ends: the adapters cancel the running query. */
function armDeadline(input: EngineInput, controller: AbortController, stop: AbortSignal): void {
  if (!input.window) return;
  const end = input.window.end;
  const ms = Math.max(0, end.getTime() - input.clock.now().getTime());
  input.clock.sleep(ms, stop).then(
    () => {
      if (stop.aborted) return;
      controller.abort(
        new WindowEndedError(
          `the window ended at ${formatLocal(end, input.windowSpec.timezone)} while the step was running; it was cancelled`,
        ),
      );
    },
    () => undefined,
  );
}

async function finishWithRollback(
  input: EngineInput,
  results: StepResult[],
  touched: number[],
  cause: MaintError,
  windowStop: boolean,
): Promise<EngineResult> {
  const outcome = await rollbackSteps(input, results, touched, cause);
  if (outcome) return { status: 'failed', steps: results, error: outcome, windowStop: false };
  const error =
    windowStop || cause instanceof WindowError ? cause : rolledBack(input, results, touched, cause);
  return { status: windowStop ? 'rescheduled' : 'rolled_back', steps: results, error, windowStop };
}

function rolledBack(
  input: EngineInput,
  results: StepResult[],
  touched: number[],
  cause: MaintError,
): MaintError {
  if (cause instanceof RolledBackError) return cause;
  const failed = results[touched[touched.length - 1] ?? 0]?.name ?? 'a step';
  return new RolledBackError(
    cause.code === 'INTERNAL' ? 'STEP_FAILED' : cause.code,
    `step "${failed}" failed: ${cause.message}; everything was rolled back`,
    {
      cause,
      hint: `Fix the cause, then run \`maint run ${input.planPath}\` again; \`maint status ${input.planPath}\` shows the journal.`,
    },
  );
}

/**
 * Undo `touched` steps newest first. Returns null when everything was undone, or the
 * operator-action error when a rollback failed or a step cannot be undone.
 */
export async function rollbackSteps(
  input: EngineInput,
  results: StepResult[],
  touched: readonly number[],
  cause: MaintError | null,
): Promise<MaintError | null> {
  if (touched.length === 0) return null;
  await input.journal
    .updateRun(input.runId, { status: 'rolling_back' })
    .catch((e: unknown) => input.logger.warn(`could not journal the rollback: ${(e as Error).message}`));
  for (const seq of [...touched].reverse()) {
    const step = input.steps[seq]!;
    const result = results[seq]!;
    if (!step.rollback) {
      if (result.status !== 'done') continue;
      // Steps up to this one stay done; every step after it (undone or never run) is left to do.
      const done = input.steps.filter((_, i) => i <= seq && results[i]!.status === 'done').map((s) => s.name);
      const leftToDo = input.steps.slice(seq + 1).map((s) => s.name);
      return new OperatorActionError(
        'POINT_OF_NO_RETURN',
        `step "${step.name}" cannot be undone, so the run could not be rolled back${cause ? ` after: ${cause.message}` : ''}. Done and not undone: ${done.join(', ')}. Left to do: ${leftToDo.length > 0 ? leftToDo.join(', ') : 'nothing'}`,
        {
          cause,
          hint: `Finish the maintenance by hand (${leftToDo.length > 0 ? leftToDo.join(', ') : 'check the result'}), then check \`maint status ${input.planPath}\`.`,
          details: { done, leftToDo },
        },
      );
    }
    const t0 = input.clock.monotonicMs();
    const base: StepRecord = {
      runId: input.runId,
      seq,
      name: step.name,
      status: 'rolling_back',
      startedAt: input.clock.now().toISOString(),
      finishedAt: null,
      durationMs: result.durationMs,
      rollbackMs: null,
      detail: result.detail,
    };
    input.onProgress?.({ type: 'step', seq, name: step.name, status: 'rolling_back' });
    await input.journal
      .putStep(base)
      .catch((e: unknown) => input.logger.warn(`journal: ${(e as Error).message}`));
    try {
      // A fresh signal: rollback must not inherit the cancellation that stopped the step.
      const detail = await step.rollback(contextFor(input, new AbortController().signal));
      const rollbackMs = Math.round(input.clock.monotonicMs() - t0);
      results[seq] = { ...result, status: 'rolled_back', rollbackMs };
      await input.journal
        .putStep({
          ...base,
          status: 'rolled_back',
          finishedAt: input.clock.now().toISOString(),
          rollbackMs,
          detail: { ...result.detail, ...(detail ?? {}) },
        })
        .catch((e: unknown) => input.logger.warn(`journal: ${(e as Error).message}`));
      input.onProgress?.({
        type: 'step',
        seq,
        name: step.name,
        status: 'rolled_back',
        durationMs: rollbackMs,
      });
    } catch (thrown) {
      const error = toMaintError(thrown);
      const rollbackMs = Math.round(input.clock.monotonicMs() - t0);
      results[seq] = { ...result, status: 'rollback_failed', rollbackMs };
      const message = redact(error.message);
      await input.journal
        .putStep({
          ...base,
          status: 'rollback_failed',
          finishedAt: input.clock.now().toISOString(),
          rollbackMs,
          detail: { ...failureDetail(thrown), error: { code: error.code, message } },
        })
        .catch((e: unknown) => input.logger.warn(`journal: ${(e as Error).message}`));
      input.onProgress?.({ type: 'step', seq, name: step.name, status: 'rollback_failed', message });
      const undone = input.steps
        .slice(0, seq)
        .filter((_, i) => touched.includes(i))
        .map((s) => s.name);
      return new OperatorActionError(
        'ROLLBACK_FAILED',
        `${cause ? `the run failed (${cause.message}) and ` : ''}rolling back step "${step.name}" failed: ${message}. Still to undo: ${undone.length > 0 ? undone.join(', ') : 'nothing else'}`,
        {
          cause: thrown,
          hint:
            step.name === 'migrate'
              ? `Inspect with \`maint migrate status ${input.planPath}\`, fix the down migration or revert by hand (\`maint migrate down ${input.planPath} --to NAME\`), then \`maint run ${input.planPath}\` rolls the rest back.`
              : `Undo step "${step.name}" by hand, then run \`maint run ${input.planPath}\` again; \`maint status ${input.planPath}\` shows the journal.`,
        },
      );
    }
  }
  return null;
}
