/**
 * The engine: runs a step list in order under the window guard, reports every transition as a
 * coded event (the journal, a durable subscriber, has it before the step goes on), cancels a
 * step still running when the window ends or its own deadline passes, and rolls back in reverse
 * on failure. It never prints.
 */
import { MaintError, OperatorActionError, RolledBackError, WindowError, toMaintError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import { formatDuration } from '../../plan/duration.js';
import { redact } from '../../support/redact.js';
import { formatLocal } from '../../window/window.js';
import type { StepRecord } from '../journal/journal.js';
import { contextFor, stepRecord, type EngineInput, type EngineResult, type StepResult } from './context.js';
import { checkTime } from './guard.js';
import { rollbackSteps } from './rollback.js';
import { failureDetail, type Step, type StepDetail, type StepStatus } from './step.js';

export { stepRecord, type EngineInput, type EngineResult, type StepResult } from './context.js';

/** A step was cancelled because the window ended. */
export class WindowEndedError extends WindowError {
  constructor(message: string) {
    super('WINDOW_ENDED', message);
  }
}

/** A step ran past its own deadline (e.g. a freeze's maxDuration); the run rolls back. */
export class StepDeadlineError extends RolledBackError {
  constructor(step: string, deadlineMs: number) {
    super(
      'STEP_DEADLINE',
      `step "${step}" ran longer than its ${formatDuration(deadlineMs)} deadline; it was cancelled`,
    );
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
        hint: hint(
          "Nothing was left half-done. Run {run} in the next window, or raise the plan's window duration.",
          {
            run: act('run', input.plan.path),
          },
        ),
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
    const failed = await runOne(input, results, touched, seq, step);
    if (failed) return failed;
  }
  return { status: 'completed', steps: results, error: null };
}

/** Run one step; returns the run's end when the step failed, else null. */
async function runOne(
  input: EngineInput,
  results: StepResult[],
  touched: number[],
  seq: number,
  step: Step,
): Promise<EngineResult | null> {
  const startedAt = input.clock.now().toISOString();
  const t0 = input.clock.monotonicMs();
  const record = (status: StepStatus, extra: Partial<StepRecord> = {}) =>
    stepRecord(input.runId, seq, step.name, status, { startedAt, ...extra });
  const controller = new AbortController();
  const stopTimers = new AbortController();
  try {
    // The lock is verified before each step: a lost lock means someone else may be running.
    await input.lock.verify();
    await input.events.emit(
      'step.running',
      { step: record('running'), estimateMs: results[seq]!.estimateMs },
      { message: step.name },
    );
    touched.push(seq);
    results[seq]!.status = 'running';
    armDeadlines(input, step, controller, stopTimers.signal);
    const onOuterAbort = () => controller.abort(input.signal?.reason);
    input.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let detail: StepDetail | void;
    try {
      const ctx = contextFor(input, seq, step, controller.signal);
      detail = await step.run(ctx);
      if (controller.signal.aborted) throw controller.signal.reason;
      await step.verify?.(ctx);
    } finally {
      input.signal?.removeEventListener('abort', onOuterAbort);
    }
    const durationMs = Math.round(input.clock.monotonicMs() - t0);
    results[seq] = { ...results[seq]!, status: 'done', durationMs, detail: detail ?? null };
    const summary = detail && typeof detail.summary === 'string' ? detail.summary : step.name;
    await input.events.emit(
      'step.done',
      {
        step: record('done', {
          finishedAt: input.clock.now().toISOString(),
          durationMs,
          detail: detail ?? null,
        }),
      },
      { message: summary },
    );
    return null;
  } catch (thrown) {
    const reason =
      controller.signal.aborted && controller.signal.reason !== undefined ? controller.signal.reason : thrown;
    const error = toMaintError(reason);
    const status: StepStatus = controller.signal.aborted ? 'cancelled' : 'failed';
    const durationMs = Math.round(input.clock.monotonicMs() - t0);
    const message = redact(error.message);
    // What the step itself threw may carry facts to keep (a command's output), even when cancelled.
    const detail: StepDetail = { ...failureDetail(thrown), error: { code: error.code, message } };
    results[seq] = { ...results[seq]!, status, durationMs, detail };
    for (const r of results.slice(seq + 1)) r.status = 'skipped';
    await input.events.emit(
      status === 'cancelled' ? 'step.cancelled' : 'step.failed',
      {
        step: record(status, { finishedAt: input.clock.now().toISOString(), durationMs, detail }),
      },
      { message, bestEffort: true },
    );
    if (error.code === 'LOCK_LOST') {
      // Another runner may hold the lock now: undoing our work could collide with theirs.
      await input.events.emit('run.updated', { patch: { status: 'failed' } }, { bestEffort: true });
      return { status: 'failed', steps: results, error };
    }
    return finishWithRollback(input, results, touched, error, error instanceof WindowError);
  } finally {
    stopTimers.abort();
  }
}

/** Abort the step when the window ends or its own deadline passes: adapters cancel the query. */
function armDeadlines(input: EngineInput, step: Step, controller: AbortController, stop: AbortSignal): void {
  const after = (ms: number, reason: () => MaintError) =>
    input.clock.sleep(Math.max(0, ms), stop).then(
      () => {
        if (!stop.aborted && !controller.signal.aborted) controller.abort(reason());
      },
      () => undefined,
    );
  if (input.window) {
    const end = input.window.end;
    void after(
      end.getTime() - input.clock.now().getTime(),
      () =>
        new WindowEndedError(
          `the window ended at ${formatLocal(end, input.windowSpec.timezone)} while the step was running; it was cancelled`,
        ),
    );
  }
  if (step.deadlineMs !== undefined) {
    const deadline = step.deadlineMs;
    void after(deadline, () => new StepDeadlineError(step.name, deadline));
  }
}

async function finishWithRollback(
  input: EngineInput,
  results: StepResult[],
  touched: number[],
  cause: MaintError,
  windowStop: boolean,
): Promise<EngineResult> {
  const outcome = await rollbackSteps(input, results, touched, cause);
  if (outcome) return { status: 'failed', steps: results, error: outcome };
  const error =
    windowStop || cause instanceof WindowError ? cause : rolledBack(input, results, touched, cause);
  if (error instanceof OperatorActionError) return { status: 'failed', steps: results, error };
  return { status: windowStop ? 'rescheduled' : 'rolled_back', steps: results, error };
}

function rolledBack(
  input: EngineInput,
  results: StepResult[],
  touched: number[],
  cause: MaintError,
): MaintError {
  if (cause instanceof RolledBackError) return cause;
  // A point of no return (no rollback) that failed saying what it left for a human to finish
  // (an RDS upgrade that failed midway) keeps its exit 6: nothing put it back.
  const last = touched[touched.length - 1];
  if (cause instanceof OperatorActionError && last !== undefined && !input.steps[last]!.rollback)
    return cause;
  const failed = results[touched[touched.length - 1] ?? 0]?.name ?? 'a step';
  return new RolledBackError(
    cause.code === 'INTERNAL' ? 'STEP_FAILED' : cause.code,
    `step "${failed}" failed: ${cause.message}; everything was rolled back`,
    {
      cause,
      hint: hint('Fix the cause, then run {run} again; {status} shows the journal.', {
        run: act('run', input.plan.path),
        status: act('status', input.plan.path),
      }),
    },
  );
}
