/**
 * One status vocabulary for a run. Everything that says how a run stands (the journal row, the
 * engine's outcome, the result a host renders, the state a maintenance event announces) uses
 * these words; the narrower types below are subsets of it, never new words.
 */

export const RUN_STATUSES = [
  /** Announced ahead of its window (the agent); nothing has started. */
  'planned',
  'running',
  'rolling_back',
  'completed',
  /** Nothing was pending and nothing was interrupted: the run changed nothing. */
  'nothing_pending',
  'rolled_back',
  /** Stopped at a safe point for lack of time and rolled back; it belongs to a later window. */
  'rescheduled',
  /** Failed and could not be rolled back completely: an operator must act. */
  'failed',
  /** Not started: outside the window, not enough time, lock held, bad input. Nothing touched. */
  'refused',
  /** An interrupted run that a later run took over and finished. */
  'resumed',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What a journal row can say. */
export const JOURNAL_STATUSES = [
  'running',
  'rolling_back',
  'completed',
  'rolled_back',
  'rescheduled',
  'failed',
  'resumed',
] as const satisfies readonly RunStatus[];
export type JournalStatus = (typeof JOURNAL_STATUSES)[number];

/** A journaled run in one of these states was interrupted when nobody holds the lock. */
export const UNFINISHED: readonly JournalStatus[] = ['running', 'rolling_back'];

/** How a run can end: the status of a run's result. */
export type RunOutcome = Extract<
  RunStatus,
  'completed' | 'nothing_pending' | 'rolled_back' | 'rescheduled' | 'failed' | 'refused'
>;

/** How the engine can end a step list it started. */
export type EngineOutcome = Extract<RunOutcome, 'completed' | 'rolled_back' | 'rescheduled' | 'failed'>;

/**
 * The state a maintenance event and the banner announce. `active` is the contract's word
 * (docs/SPEC.md, the webhook body) for a run that is `running`; the rest are run statuses.
 */
export type MaintenanceState =
  'active' | Extract<RunStatus, 'planned' | 'completed' | 'failed' | 'rolled_back' | 'rescheduled'>;

/** How one step of a run stands. */
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
