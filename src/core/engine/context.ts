/**
 * What the engine and its rollback share: the input of a run's step list, each step's result,
 * the context a step runs with, and the journal record of a transition.
 */
import type { Database, LockSession } from '../../db/database.js';
import type { MaintError } from '../../errors.js';
import type { WindowSpec } from '../../plan/schema.js';
import type { Logger } from '../../support/logger.js';
import type { WindowInstance } from '../../window/window.js';
import type { Clock } from '../clock.js';
import type { Emitter } from '../events.js';
import type { StepRecord } from '../journal/journal.js';
import type { EngineOutcome } from '../status.js';
import type { StepEstimate } from './estimates.js';
import type { RunState } from './state.js';
import type { PlanRef, Step, StepContext, StepDetail, StepPorts, StepStatus } from './step.js';

export interface EngineInput {
  runId: string;
  plan: PlanRef;
  windowSpec: WindowSpec;
  /** The window the run belongs to; null for an emergency run (no guard, no deadline). */
  window: WindowInstance | null;
  steps: readonly Step[];
  estimates: readonly StepEstimate[];
  /** Coded events; the journal is subscribed to it. */
  events: Emitter;
  clock: Clock;
  logger: Logger;
  db: Database;
  lock: LockSession;
  state: RunState;
  ports: StepPorts;
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

export interface EngineResult {
  status: EngineOutcome;
  steps: StepResult[];
  /** Why the run did not complete. */
  error: MaintError | null;
}

export function stepRecord(
  runId: string,
  seq: number,
  name: string,
  status: StepStatus,
  extra: Partial<StepRecord> = {},
): StepRecord {
  return {
    runId,
    seq,
    name,
    status,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    rollbackMs: null,
    detail: null,
    ...extra,
  };
}

export function contextFor(input: EngineInput, seq: number, step: Step, signal: AbortSignal): StepContext {
  return {
    signal,
    runId: input.runId,
    plan: input.plan,
    db: input.db,
    lock: input.lock,
    logger: input.logger,
    clock: input.clock,
    state: input.state,
    ports: input.ports,
    progress: (message) => input.events.tell('step.progress', { seq, name: step.name }, { message }),
    report: (code, data, message) => input.events.tell(code, data as never, { message }),
  };
}
