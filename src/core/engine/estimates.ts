/**
 * Step estimates. The plan's `estimate` wins (spread over the steps in proportion to their
 * defaults); otherwise each step's past durations in the journal (median of the recent ones);
 * otherwise small defaults. Rollbacks are estimated the same way from journaled rollbacks.
 */
import type { StepRecord } from '../journal/journal.js';
import type { Step } from './step.js';

export interface StepEstimate {
  runMs: number;
  rollbackMs: number;
  source: 'plan' | 'journal' | 'default';
}

/** How many past durations of a step feed its learned estimate. */
const SAMPLES = 5;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

function defaultRollback(step: Step, runMs: number): number {
  if (!step.rollback) return 0;
  return step.defaultRollbackMs ?? runMs;
}

export function estimateSteps(
  steps: readonly Step[],
  options: { planEstimateMs?: number | undefined; history?: readonly StepRecord[] },
): StepEstimate[] {
  const history = options.history ?? [];
  const learned = (name: string, pick: (s: StepRecord) => number | null) =>
    median(
      history
        .filter((s) => s.name === name)
        .map(pick)
        .filter((v): v is number => v !== null && Number.isFinite(v))
        .slice(0, SAMPLES),
    );
  const learnedRollback = (step: Step) =>
    learned(step.name, (s) => (s.status === 'rolled_back' ? s.rollbackMs : null));

  if (options.planEstimateMs !== undefined) {
    const total = steps.reduce((sum, s) => sum + s.defaultEstimateMs, 0) || 1;
    return steps.map((step) => {
      const runMs = Math.max(1, Math.round((options.planEstimateMs! * step.defaultEstimateMs) / total));
      const scale = runMs / Math.max(1, step.defaultEstimateMs);
      const rollbackMs =
        learnedRollback(step) ?? Math.round(defaultRollback(step, step.defaultEstimateMs) * scale);
      return { runMs, rollbackMs: step.rollback ? rollbackMs : 0, source: 'plan' };
    });
  }
  return steps.map((step) => {
    const past = learned(step.name, (s) => (s.status === 'done' ? s.durationMs : null));
    const runMs = past ?? step.defaultEstimateMs;
    const rollbackMs = learnedRollback(step) ?? defaultRollback(step, runMs);
    return {
      runMs,
      rollbackMs: step.rollback ? rollbackMs : 0,
      source: past === null ? 'default' : 'journal',
    };
  });
}
