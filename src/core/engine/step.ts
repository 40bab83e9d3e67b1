/**
 * The unit of work. Strategies build lists of steps; only the engine runs them. A step without
 * `rollback` is a point of no return: once it is done, a later failure cannot be undone
 * automatically and needs an operator.
 */
import type { Database, LockSession } from '../../db/database.js';
import type { Hint } from '../../hints.js';
import type { DatabaseConfig } from '../../plan/schema.js';
import type { Logger } from '../../support/logger.js';
import type { Clock } from '../clock.js';
import type { EventCode, EventData } from '../events.js';
import type { RunState } from './state.js';

export { STEP_STATUSES, type StepStatus } from '../status.js';

export type { RunState, StateKey } from './state.js';

/** The plan a run belongs to, as steps and hints need it. */
export interface PlanRef {
  name: string;
  /** The plan file as the user wrote it (for hints). */
  path: string;
  /** The plan's folder (relative paths in the plan resolve from it). */
  dir: string;
}

/** What steps may open besides the plan's database; everything opened is closed when the run ends. */
export interface StepPorts {
  /** Another database (a clone, a second server), closed by the run. */
  openDatabase(config: DatabaseConfig): Promise<Database>;
}

export interface StepContext {
  /** Aborted when the window ends, the step's deadline passes, or the run is stopped. */
  signal: AbortSignal;
  runId: string;
  plan: PlanRef;
  /** The plan's database. */
  db: Database;
  lock: LockSession;
  logger: Logger;
  clock: Clock;
  /** Typed state journaled with the run; a resumed or rolled-back run reads it back. */
  state: RunState;
  ports: StepPorts;
  /** A line of progress for people (`step.progress`). */
  progress(message: string): void;
  /** Report a coded event of the step's own kind; the run adds the plan, run id and time. */
  report<C extends StepEventCode>(code: C, data: EventData[C], message: string): void;
}

/** The codes a step may report itself (the engine reports the step transitions). */
export type StepEventCode = Extract<
  EventCode,
  `migration.${string}` | `fleet.${string}` | `clone.${string}` | 'step.progress'
>;

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
  /**
   * Longest the step may run, besides the window's end (e.g. a freeze's `maxDuration`). Past
   * it the step is cancelled and the run rolls back.
   */
  deadlineMs?: number;
  run(ctx: StepContext): Promise<StepDetail | void>;
  /** Undo the step; must be safe when the step did nothing or only part of its work. */
  rollback?(ctx: StepContext): Promise<StepDetail | void>;
  /** Expected rollback duration; @default the run estimate when the step has a rollback. */
  defaultRollbackMs?: number;
  /** Confirm the step's effect after `run` (e.g. the banner file reads back). */
  verify?(ctx: StepContext): Promise<void>;
  /** What an operator should do when undoing this step fails. @default undo it by hand, then re-run */
  rollbackFailedHint?: Hint;
}
