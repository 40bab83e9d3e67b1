/**
 * What a run needs before it changes anything: the migrator, the pending migrations, the
 * journal's history and interrupted runs, the strategy's steps and their estimates. Built once
 * per run; under the lock only the pending list and the interrupted runs are read again, and
 * the steps are rebuilt only if what is pending changed meanwhile.
 */
import type { Database } from '../../db/database.js';
import type { Migrator, PendingMigration } from '../../migrations/migrator.js';
import { hasWork as planHasWork, readPlanWork, type PlanWork } from '../../operations/pending.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { buildSteps } from '../../strategies/index.js';
import type { WindowInstance } from '../../window/window.js';
import { estimateSteps, type StepEstimate } from '../engine/estimates.js';
import type { Step } from '../engine/step.js';
import type { Journal, RunRecord, StepRecord } from '../journal/journal.js';
import { runToSettle } from '../journal/unresolved.js';
import type { Ports } from '../ports.js';
import { lastServedRelease } from '../engine/state.js';
import { fleetInput } from '../../strategies/index.js';
import type { OpenedFleet } from '../preflight.js';

export interface Prepared {
  migrator: Migrator;
  pending: PendingMigration[];
  /** Pending migrations and operations (src/operations/pending.ts). */
  work: PlanWork;
  steps: Step[];
  estimates: StepEstimate[];
  /** The window the banner and events name (for an emergency run, its expected span). */
  span: WindowInstance;
  /** What the guard enforces: null for an emergency run. */
  guardWindow: WindowInstance | null;
  totalMs: number;
  /** A run to settle first: interrupted (`running`, `rolling_back`) or `failed` (journal/unresolved.ts). */
  interrupted: RunRecord | undefined;
  /** The fleet does not serve the plan's release yet. */
  fleetPending: boolean;
  /** The release the journal says the fleet served last (null: never journaled). */
  served: string | null;
}

interface PrepareInput {
  ports: Ports;
  loaded: LoadedPlan;
  db: Database;
  journal: Journal;
  window: WindowInstance | null;
  emergency: boolean;
  /** The plan's fleet, opened and read by preflight (null without `fleet:`). */
  fleet?: OpenedFleet | null;
}

export async function prepare(input: PrepareInput): Promise<Prepared> {
  const migrator = await input.ports.createMigrator(input.db, input.loaded, input.ports.logger);
  // Pending operations too; a plan of operations only may have no migrations folder.
  const [work, history, interrupted, runs] = await Promise.all([
    readPlanWork(input.loaded, migrator, input.journal),
    input.journal.history(input.loaded.plan.name, 200),
    runToSettle(input.journal, input.loaded.plan.name),
    input.fleet ? input.journal.runs(input.loaded.plan.name, 50) : Promise.resolve([]),
  ]);
  return plan({ ...input, served: lastServedRelease(runs) }, work, history, interrupted);
}

/** Read again under the lock: only now is the picture authoritative. */
export async function refresh(input: PrepareInput, prepared: Prepared): Promise<Prepared> {
  const [work, interrupted] = await Promise.all([
    readPlanWork(input.loaded, prepared.migrator, input.journal),
    runToSettle(input.journal, input.loaded.plan.name),
  ]);
  const names = (w: PlanWork) => [
    ...w.pending.map((m) => m.name),
    ...w.operations.map((o) => `op:${o.name}`),
  ];
  if (names(work).join('\n') === names(prepared.work).join('\n')) return { ...prepared, interrupted };
  const history = await input.journal.history(input.loaded.plan.name, 200);
  return plan({ ...input, served: prepared.served }, work, history, interrupted);
}

function plan(
  input: PrepareInput & { served: string | null },
  work: PlanWork,
  history: StepRecord[],
  interrupted: RunRecord | undefined,
): Prepared {
  const { migrator, pending } = work;
  const { loaded, window } = input;
  const now = input.ports.clock.now();
  // An emergency run's banner announces its expected span, known only once the steps are
  // estimated: the steps hold this object, and its end is set below, before anything runs.
  // An emergency run is announced with its own span even when a window happens to be open: no
  // window applies to it (no guard, no deadline).
  const span: WindowInstance = window && !input.emergency ? window : { start: now, end: now };
  const fleet = input.fleet ? fleetInput(input.fleet, loaded, work, input.served) : undefined;
  const steps = buildSteps({ loaded, work, window: span, ...(fleet ? { fleet } : {}) });
  const estimates = estimateSteps(steps, { planEstimateMs: loaded.plan.estimate, history });
  const totalMs = estimates.reduce((s, e) => s + e.runMs, 0);
  if (span !== window) span.end = new Date(now.getTime() + totalMs);
  return {
    migrator,
    pending,
    work,
    steps,
    estimates,
    span,
    guardWindow: input.emergency ? null : window,
    totalMs,
    interrupted,
    fleetPending: Boolean(fleet && fleet.previous !== fleet.release),
    served: input.served,
  };
}

/** Whether the run has anything to do (an interrupted run aside). */
export function hasWork(prepared: Prepared): boolean {
  return planHasWork(prepared.work) || prepared.fleetPending;
}
