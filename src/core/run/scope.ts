/** What one run holds while it runs (under the lock): shared by run.ts and recover.ts. */
import type { Database, LockSession } from '../../db/database.js';
import type { NotifyPort } from '../../notify/port.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { PlanRef, StepPorts } from '../engine/step.js';
import type { Emitter } from '../events.js';
import type { Journal } from '../journal/journal.js';
import type { Ports } from '../ports.js';
import type { Publisher } from './publish.js';
import type { RunResult } from './result.js';

export interface RunOptions {
  /** Run outside the window; journaled and sent with the events. */
  emergencyReason?: string;
  /**
   * `--force-rollback --reason`: return the fleet to a release the expand/contract guard refuses
   * (a contract migration ran after it served); the reason is journaled with the run.
   */
  forceRollback?: { reason: string };
  /** Stop the run (SIGINT/SIGTERM): the current step is cancelled and everything rolled back. */
  signal?: AbortSignal;
}

export interface RunScope {
  ports: Ports;
  loaded: LoadedPlan;
  plan: PlanRef;
  options: RunOptions;
  db: Database;
  lock: LockSession;
  journal: Journal;
  events: Emitter;
  notify: NotifyPort;
  publisher: Publisher;
  stepPorts: StepPorts;
  result: RunResult;
}
