/**
 * Undoing a run: the touched steps newest first, each transition reported (and journaled).
 * A step without `rollback` that is done is a point of no return: the rollback stops there and
 * an operator must act (exit 6), told exactly what is left.
 */
import { MaintError, OperatorActionError, toMaintError } from '../../errors.js';
import { act, hint } from '../../hints.js';
import { redact } from '../../support/redact.js';
import { contextFor, stepRecord, type EngineInput, type StepResult } from './context.js';
import { failureDetail } from './step.js';

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
  await input.events.emit('run.updated', { patch: { status: 'rolling_back' } }, { bestEffort: true });
  const plan = input.plan.path;
  const stillToUndo = (seq: number) =>
    input.steps
      .slice(0, seq)
      .filter((_, i) => touched.includes(i) && results[i]!.status !== 'rolled_back')
      .map((s) => s.name);
  for (const seq of [...touched].reverse()) {
    const step = input.steps[seq]!;
    const result = results[seq]!;
    if (!step.rollback) {
      if (result.status !== 'done') continue;
      // Steps up to this one stay done; every step after it (undone or never run) is left to do.
      const done = input.steps.filter((_, i) => i <= seq && results[i]!.status === 'done').map((s) => s.name);
      const leftToDo = input.steps.slice(seq + 1).map((s) => s.name);
      const todo = leftToDo.length > 0 ? leftToDo.join(', ') : 'nothing';
      return new OperatorActionError(
        'POINT_OF_NO_RETURN',
        `step "${step.name}" cannot be undone, so the run could not be rolled back${cause ? ` after: ${cause.message}` : ''}. Done and not undone: ${done.join(', ')}. Left to do: ${todo}`,
        {
          cause,
          hint: hint(
            `Finish the maintenance by hand (${leftToDo.length > 0 ? todo : 'check the result'}), then record that with {resolve} (until then \`maint gate\` refuses and \`maint run\` does not start); {status} shows the journal.`,
            {
              resolve: act('resolve', plan, { run: input.runId, reason: 'what was finished by hand' }),
              status: act('status', plan),
            },
          ),
          details: { done, leftToDo },
        },
      );
    }
    const t0 = input.clock.monotonicMs();
    const base = stepRecord(input.runId, seq, step.name, 'rolling_back', {
      startedAt: input.clock.now().toISOString(),
      durationMs: result.durationMs,
      detail: result.detail,
    });
    await input.events.emit('step.rolling_back', { step: base }, { message: step.name, bestEffort: true });
    try {
      // A fresh signal: rollback must not inherit the cancellation that stopped the step.
      const detail = await step.rollback(contextFor(input, seq, step, new AbortController().signal));
      const rollbackMs = Math.round(input.clock.monotonicMs() - t0);
      results[seq] = { ...result, status: 'rolled_back', rollbackMs };
      const summary = detail && typeof detail.summary === 'string' ? detail.summary : step.name;
      await input.events.emit(
        'step.rolled_back',
        {
          step: {
            ...base,
            status: 'rolled_back',
            finishedAt: input.clock.now().toISOString(),
            rollbackMs,
            detail: { ...result.detail, ...(detail ?? {}) },
          },
        },
        { message: summary, bestEffort: true },
      );
    } catch (thrown) {
      const error = toMaintError(thrown);
      const rollbackMs = Math.round(input.clock.monotonicMs() - t0);
      results[seq] = { ...result, status: 'rollback_failed', rollbackMs };
      // One sentence each: a message's own full stop is not doubled by the ". " joining them.
      const message = redact(error.message).replace(/[.\s]+$/, '');
      await input.events.emit(
        'step.rollback_failed',
        {
          step: {
            ...base,
            status: 'rollback_failed',
            finishedAt: input.clock.now().toISOString(),
            rollbackMs,
            detail: { ...failureDetail(thrown), error: { code: error.code, message } },
          },
        },
        { message, bestEffort: true },
      );
      const left = stillToUndo(seq);
      // A step that says why it cannot be undone (an operator-action error) keeps its code.
      if (error instanceof OperatorActionError)
        return new OperatorActionError(
          error.code,
          `${cause ? `the run failed (${cause.message}) and ` : ''}step "${step.name}" cannot be rolled back: ${message}. Not undone: ${[step.name, ...left].join(', ')}`,
          {
            cause: thrown,
            ...(error.hintSpec ? { hint: error.hintSpec } : {}),
            details: { ...error.details, leftToUndo: [step.name, ...left] },
          },
        );
      return new OperatorActionError(
        'ROLLBACK_FAILED',
        `${cause ? `the run failed (${cause.message}) and ` : ''}rolling back step "${step.name}" failed: ${message}. Still to undo: ${left.length > 0 ? left.join(', ') : 'nothing else'}`,
        {
          cause: thrown,
          hint:
            step.rollbackFailedHint ??
            hint(`Undo step "${step.name}" by hand, then run {run} again; {status} shows the journal.`, {
              run: act('run', plan),
              status: act('status', plan),
            }),
          details: { leftToUndo: [step.name, ...left] },
        },
      );
    }
  }
  return null;
}
