/**
 * The unit of work. Strategies build lists of steps; only the engine runs them. A step without
 * `rollback` is a point of no return: once it is done, a later failure cannot be undone
 * automatically and needs an operator.
 */
import type { Database, LockSession } from '../db/database.js';
import type { Logger } from '../output/logger.js';
import type { Clock } from './clock.js';

/** What a run knows before it changes anything; kept in the journal so a resumed run reuses it. */
export interface Baseline {
  /** Newest migration applied before the run, or null when none was. */
  appliedBefore: string | null;
  /** Value of each integrity check before the run (first column of the first row, as text). */
  checks: Record<string, string | null>;
}

/** State shared by the steps of one run. */
export interface RunState {
  baseline: Baseline | null;
  /** Record the baseline in the journal (before anything is migrated). */
  saveBaseline(baseline: Baseline): Promise<void>;
}

export interface StepContext {
  /** Aborted when the window ends (or the run is stopped); long work must stop then. */
  signal: AbortSignal;
  db: Database | null;
  lock: LockSession | null;
  logger: Logger;
  clock: Clock;
  runId: string;
  state: RunState;
  /** A line of progress for people (e.g. one migration applied). */
  progress(message: string): void;
}

/** Machine-readable facts a step reports; journaled with the step. */
export type StepDetail = Record<string, unknown>;

/**
 * An error a step throws may carry facts to journal with the failure (a command's output); the
 * engine keeps them in the failed step's detail, beside `error`.
 */
export interface StepFailure {
  stepDetail?: StepDetail;
}

/** The facts a thrown error carries for the step's journaled detail (`{}` when none). */
export function failureDetail(error: unknown): StepDetail {
  const detail = (error as StepFailure | null | undefined)?.stepDetail;
  return detail && typeof detail === 'object' && !Array.isArray(detail) ? detail : {};
}

export interface Step {
  /** Stable name: keys the journal and the learned estimates (`migrate`, `banner:active`). */
  name: string;
  /** Expected duration when neither the plan nor the journal says better. */
  defaultEstimateMs: number;
  run(ctx: StepContext): Promise<StepDetail | void>;
  /** Undo the step; must be safe when the step did nothing or only part of its work. */
  rollback?(ctx: StepContext): Promise<StepDetail | void>;
  /** Expected rollback duration; @default the run estimate when the step has a rollback. */
  defaultRollbackMs?: number;
  /** Confirm the step's effect after `run` (e.g. the banner file reads back). */
  verify?(ctx: StepContext): Promise<void>;
}

export const STEP_STATUSES = [
  'pending',
  'running',
  'done',
  'failed',
  'cancelled',
  'skipped',
  'rolling_back',
  'rolled_back',
  'rollback_failed',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
