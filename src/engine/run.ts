/**
 * `maint run` as a core function: refuse outside the window, open the database, take the lock,
 * settle any interrupted run (resume or roll back), build the strategy's steps, check the
 * estimates against the time left, run them through the engine, tell everyone, journal it all.
 * Returns a RunResult or throws a MaintError whose `details.result` is the partial result.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Database, LockSession } from '../db/database.js';
import { LockHeldError, MaintError, RolledBackError, WindowError, toMaintError } from '../errors.js';
import type { MigrationInfo, Migrator } from '../migrations/migrator.js';
import type { DeliveryOutcome } from '../notify/channel.js';
import { createLogger, type Logger } from '../output/logger.js';
import { redact } from '../output/redact.js';
import type { LoadedPlan } from '../plan/loader.js';
import { formatDuration } from '../plan/duration.js';
import { assertSupported, buildSteps } from '../strategies/index.js';
import { formatLocal, type WindowInstance } from '../window/window.js';
import { systemClock, type Clock } from './clock.js';
import { rollbackSteps, runSteps, type StepResult } from './engine.js';
import { estimateSteps, type StepEstimate } from './estimates.js';
import type { RunProgressEvent } from './events.js';
import { checkTime, describeNext, nextWindowAfter, openWindow } from './guard.js';
import { DatabaseJournal } from './journal-db.js';
import type { Journal, RunRecord, RunStatus } from './journal.js';
import { defaultNotifyDeps, Publisher, type NotifyDeps } from './publish.js';
import type { Baseline, RunState, Step, StepDetail } from './step.js';
import { hasWork, readPlanWork, type PlanWork } from '../operations/pending.js';

/** Clock skew between this machine and the database server worth a warning. */
const SKEW_WARN_MS = 5000;

export interface RunDeps {
  openDatabase(loaded: LoadedPlan, logger: Logger): Promise<Database>;
  createMigrator(db: Database, loaded: LoadedPlan, logger: Logger): Promise<Migrator>;
  notify: NotifyDeps;
  journal(db: Database): Journal;
}

export interface RunPlanOptions {
  /** Run outside the window; journaled and sent with the events. */
  emergencyReason?: string;
  /** @default systemClock() (honours MAINT_NOW) */
  clock?: Clock;
  logger?: Logger;
  onProgress?: (event: RunProgressEvent) => void;
  /** Stop the run (SIGINT/SIGTERM): the current step is cancelled and everything rolled back. */
  signal?: AbortSignal;
  /** Replace adapters (tests). */
  deps?: Partial<RunDeps>;
}

export type RunOutcome =
  'completed' | 'nothing_pending' | 'rolled_back' | 'rescheduled' | 'failed' | 'refused';

export interface RunResult {
  plan: string;
  runId: string | null;
  status: RunOutcome;
  steps: Array<{
    name: string;
    status: string;
    durationMs: number | null;
    estimateMs: number;
    /** What the step reported (redacted): applied migrations, a command's output, an error. */
    detail?: StepDetail | null;
  }>;
  notifications: DeliveryOutcome[];
  error: { code: string; message: string; hint: string | null } | null;
  emergency: { reason: string } | null;
  /** What happened to an interrupted run found at start. */
  recovered: { runId: string; action: 'resumed' | 'rolled_back'; reason: string } | null;
  /** Migrations applied by this run. */
  applied: string[];
  window: { start: string; end: string; startLocal: string; endLocal: string } | null;
  nextWindow: { start: string; startLocal: string } | null;
}

export async function defaultRunDeps(): Promise<RunDeps> {
  return {
    openDatabase: async (loaded, logger) =>
      (await import('../db/index.js')).openDatabase(loaded.plan.database, loaded.dir, { logger }),
    createMigrator: async (db, loaded, logger) =>
      (await import('../migrations/index.js')).createMigrator(db, loaded.plan.migrations, loaded.dir, {
        logger,
      }),
    notify: await defaultNotifyDeps(),
    journal: (db) => new DatabaseJournal(db),
  };
}

function showWindow(w: WindowInstance, zone: string) {
  return {
    start: w.start.toISOString(),
    end: w.end.toISOString(),
    startLocal: formatLocal(w.start, zone),
    endLocal: formatLocal(w.end, zone),
  };
}

function newRunId(clock: Clock): string {
  const stamp = clock.now().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `run_${stamp}_${randomBytes(3).toString('hex')}`;
}

/** Attach the partial result to an error so `--json` prints one object with `error` set. */
function withResult(error: MaintError, result: RunResult): MaintError {
  Object.defineProperty(error, 'details', {
    value: { ...error.details, result },
    configurable: true,
    enumerable: true,
  });
  return error;
}

function errorJson(error: MaintError | null): RunResult['error'] {
  return error ? { code: error.code, message: redact(error.message), hint: error.hint ?? null } : null;
}

export async function runPlan(loaded: LoadedPlan, options: RunPlanOptions = {}): Promise<RunResult> {
  const { plan } = loaded;
  const clock = options.clock ?? systemClock();
  const logger = options.logger ?? createLogger();
  const zone = plan.window.timezone;
  const emergency = options.emergencyReason ? { reason: options.emergencyReason } : null;
  const now = clock.now();
  const window = openWindow(plan.window, now);
  const next = nextWindowAfter(plan.window, now);
  const result: RunResult = {
    plan: plan.name,
    runId: null,
    status: 'refused',
    steps: [],
    notifications: [],
    error: null,
    emergency,
    recovered: null,
    applied: [],
    window: window ? showWindow(window, zone) : null,
    nextWindow: next ? { start: next.start.toISOString(), startLocal: formatLocal(next.start, zone) } : null,
  };
  const fail = (error: MaintError, status: RunOutcome = result.status): never => {
    result.status = status;
    result.error = errorJson(error);
    throw withResult(error, result);
  };

  assertSupported(plan);
  // Outside the window nothing is opened, locked or written.
  if (!window && !emergency) {
    fail(
      new WindowError(
        'WINDOW_CLOSED',
        `the maintenance window of ${plan.name} is closed now (${formatLocal(now, zone)}); ${describeNext(plan.window, next)}`,
        {
          hint: `Run it in the next window, or now with \`maint run ${loaded.displayPath} --emergency --reason "…"\`; \`maint window ${loaded.displayPath}\` lists the windows.`,
          details: { nextWindow: next?.start.toISOString() ?? null },
        },
      ),
    );
  }

  const deps: RunDeps = { ...(await defaultRunDepsLazy(options.deps)), ...options.deps } as RunDeps;
  const db = await deps.openDatabase(loaded, logger);
  try {
    if (!clock.pinned) await warnOnSkew(db, clock, logger);
    // Without an interrupted run to settle, "nothing to do" and "no time" need no lock: touch nothing.
    const pre = await prepare(loaded, deps, db, clock, window, emergency !== null, logger);
    if (!pre.interrupted) {
      if (!hasWork(pre.work)) {
        result.status = 'nothing_pending';
        return result;
      }
      refuseTooShort(loaded, pre, clock, result, fail);
    }
    const lock = await db.acquireLock(plan.name, { wait: false, purpose: 'run' });
    if (!lock) {
      const holder = await db.lockStatus(plan.name).catch(() => null);
      fail(
        new LockHeldError(
          `another run holds the lock of ${plan.name}${holder ? ` (${holder.purpose} on ${holder.host} pid ${holder.pid}${holder.job ? `, ${holder.job}` : ''}, since ${holder.since})` : ''}`,
          {
            hint: `Wait for it to finish (\`maint status ${loaded.displayPath}\`), or see \`maint lock ${loaded.displayPath}\`.`,
            details: { holder },
          },
        ),
      );
    }
    try {
      return await runLocked({
        loaded,
        options,
        deps,
        db,
        lock: lock!,
        clock,
        logger,
        window,
        emergency,
        result,
        fail,
      });
    } finally {
      await lock!
        .release()
        .catch((e: unknown) => logger.warn(`could not release the lock: ${(e as Error).message}`));
    }
  } finally {
    await db.close().catch(() => undefined);
  }
}

async function defaultRunDepsLazy(partial: Partial<RunDeps> | undefined): Promise<Partial<RunDeps>> {
  // Only load the real adapters that the caller did not replace.
  if (partial?.openDatabase && partial.createMigrator && partial.notify && partial.journal) return {};
  return defaultRunDeps();
}

async function warnOnSkew(db: Database, clock: Clock, logger: Logger): Promise<void> {
  try {
    const server = await db.serverTime();
    const skew = server.getTime() - clock.now().getTime();
    if (Math.abs(skew) > SKEW_WARN_MS) {
      const message = `the database server's clock is ${formatDuration(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} this machine's; window decisions use this machine's clock`;
      // stderr (the logger), not the step list: it must reach the operator even with --json.
      logger.warn(message);
    }
  } catch (error) {
    logger.debug(`could not read the server's clock: ${(error as Error).message}`);
  }
}

interface LockedInput {
  loaded: LoadedPlan;
  options: RunPlanOptions;
  deps: RunDeps;
  db: Database;
  lock: LockSession;
  clock: Clock;
  logger: Logger;
  window: WindowInstance | null;
  emergency: { reason: string } | null;
  result: RunResult;
  fail: (error: MaintError, status?: RunOutcome) => never;
}

interface Prepared {
  migrator: Migrator;
  pending: MigrationInfo[];
  /** Pending migrations and operations (operations: see src/operations/pending.ts). */
  work: PlanWork;
  steps: Step[];
  estimates: StepEstimate[];
  /** The window the banner and events name (for an emergency run, its expected span). */
  span: WindowInstance;
  /** What the guard enforces: null for an emergency run. */
  guardWindow: WindowInstance | null;
  totalMs: number;
  interrupted: RunRecord | undefined;
}

/** Read what the run needs (migrations, history, interrupted runs) and build its steps. Read-only. */
async function prepare(
  loaded: LoadedPlan,
  deps: RunDeps,
  db: Database,
  clock: Clock,
  window: WindowInstance | null,
  emergency: boolean,
  logger: Logger,
): Promise<Prepared> {
  const { plan } = loaded;
  const journal = deps.journal(db);
  // Pending operations too; a plan of operations only may have no migrations folder.
  const work = await readPlanWork(loaded, await deps.createMigrator(db, loaded, logger), journal);
  const { migrator, pending } = work;
  const history = await journal.history(plan.name, 200);
  const build = (span: WindowInstance): Step[] =>
    buildSteps({
      plan,
      planDir: loaded.dir,
      planPath: loaded.displayPath,
      migrator,
      pendingCount: pending.length,
      window: span,
      operations: work.operations,
      migrationsAbsent: work.migrationsAbsent,
    });
  const estimateFor = (steps: Step[]) => estimateSteps(steps, { planEstimateMs: plan.estimate, history });
  const provisional = estimateFor(build(window ?? { start: clock.now(), end: clock.now() }));
  const totalMs = provisional.reduce((s, e) => s + e.runMs, 0);
  const span = window ?? { start: clock.now(), end: new Date(clock.now().getTime() + totalMs) };
  const steps = build(span);
  const estimates = estimateFor(steps);
  const interrupted = (await journal.unfinished(plan.name))[0];
  return {
    migrator,
    pending,
    work,
    steps,
    estimates,
    span,
    guardWindow: emergency ? null : window,
    totalMs,
    interrupted,
  };
}

function refuseTooShort(
  loaded: LoadedPlan,
  p: Prepared,
  clock: Clock,
  result: RunResult,
  fail: LockedInput['fail'],
): void {
  const verdict = checkTime(
    loaded.plan.window,
    p.guardWindow,
    clock.now(),
    p.totalMs,
    `the run (estimate ${formatDuration(p.totalMs)})`,
  );
  if (verdict.ok) return;
  result.steps = p.steps.map((s, i) => ({
    name: s.name,
    status: 'skipped',
    durationMs: null,
    estimateMs: p.estimates[i]!.runMs,
  }));
  fail(
    new WindowError(verdict.code, `not started: ${verdict.message}`, {
      hint: `Nothing was touched. Run \`maint run ${loaded.displayPath}\` in the next window, or lower the plan's estimate if it is too pessimistic.`,
      details: { remainingMs: verdict.remainingMs, neededMs: verdict.neededMs },
    }),
    'refused',
  );
}

async function runLocked(input: LockedInput): Promise<RunResult> {
  const { loaded, deps, db, lock, clock, logger, emergency, result, fail } = input;
  const { plan } = loaded;
  const onProgress = input.options.onProgress;
  const journal = deps.journal(db);
  // Read again under the lock: only now is the picture authoritative.
  const prepared = await prepare(loaded, deps, db, clock, input.window, emergency !== null, logger);
  const { steps, estimates, span, guardWindow } = prepared;

  const channels = plan.notify.channels.length > 0 ? await deps.notify.createChannels(plan, loaded.dir) : [];
  const publisher = new Publisher(deps.notify, channels, clock, logger, onProgress);

  // An interrupted run: nobody else can hold the lock we now hold, so its process is gone.
  let baseline: Baseline | null = null;
  let resumedFrom: string | null = null;
  const interrupted = prepared.interrupted;
  if (interrupted) {
    const verdict = checkTime(
      plan.window,
      guardWindow,
      clock.now(),
      estimates.reduce((s, e) => s + e.runMs, 0),
      'finishing the interrupted run',
    );
    const lastStep = (await journal.steps(interrupted.runId)).filter((s) => s.status !== 'pending').at(-1);
    const where = lastStep ? `during step "${lastStep.name}"` : 'before its first step';
    const who = `run ${interrupted.runId} (pid ${interrupted.pid} on ${interrupted.host}) stopped ${where}`;
    if (interrupted.status === 'rolling_back' || !verdict.ok) {
      const reason =
        interrupted.status === 'rolling_back'
          ? `${who} while it was rolling back, so its rollback is finished now`
          : `${who}, and ${verdict.ok ? '' : verdict.message.replace(/;.*$/, '')}, so it is rolled back`;
      result.recovered = { runId: interrupted.runId, action: 'rolled_back', reason };
      onProgress?.({ type: 'notice', level: 'warn', message: `rolling back: ${reason}` });
      return recoverByRollback(input, {
        interrupted,
        steps,
        estimates,
        journal,
        publisher,
        span,
        reason,
        windowStop: !verdict.ok && interrupted.status !== 'rolling_back',
      });
    }
    const reason = `${who}; the window is still open with time to finish, so it is resumed`;
    result.recovered = { runId: interrupted.runId, action: 'resumed', reason };
    onProgress?.({ type: 'notice', level: 'warn', message: `resuming: ${reason}` });
    baseline = interrupted.baseline;
    resumedFrom = interrupted.runId;
  } else if (!hasWork(prepared.work)) {
    result.status = 'nothing_pending';
    result.steps = [];
    return result;
  }

  // Before anything starts: the whole run must fit in what is left of the window.
  refuseTooShort(loaded, prepared, clock, result, fail);

  const runId = newRunId(clock);
  result.runId = runId;
  await journal.ensure();
  if (resumedFrom)
    await journal.updateRun(resumedFrom, {
      status: 'resumed',
      finishedAt: clock.now().toISOString(),
      note: `resumed by ${runId}`,
    });
  const record: RunRecord = {
    runId,
    plan: plan.name,
    status: 'running',
    startedAt: clock.now().toISOString(),
    finishedAt: null,
    host: hostname(),
    pid: process.pid,
    emergencyReason: emergency?.reason ?? null,
    windowStart: span.start.toISOString(),
    windowEnd: span.end.toISOString(),
    resumedFrom,
    baseline,
    error: null,
    note: resumedFrom ? (result.recovered?.reason ?? null) : null,
    notifications: null,
  };
  await journal.insertRun(record);
  const state: RunState = {
    baseline,
    saveBaseline: async (b) => {
      state.baseline = b;
      await journal.updateRun(runId, { baseline: b });
    },
  };
  const eventBase = { plan, runId, window: span, ...(emergency ? { emergency } : {}) };
  publisher.publish({ ...eventBase, type: 'maintenance_started' });

  let outcome;
  try {
    outcome = await runSteps({
      runId,
      planPath: loaded.displayPath,
      windowSpec: plan.window,
      window: guardWindow,
      steps,
      estimates,
      journal,
      clock,
      logger,
      db,
      lock,
      state,
      ...(onProgress ? { onProgress } : {}),
      ...(input.options.signal ? { signal: input.options.signal } : {}),
    });
  } catch (error) {
    // The engine handles step failures itself; this is a journal or engine fault.
    await journal
      .updateRun(runId, {
        status: 'failed',
        finishedAt: clock.now().toISOString(),
        error: { code: toMaintError(error).code, message: redact(toMaintError(error).message) },
      })
      .catch(() => undefined);
    throw error;
  }

  result.steps = outcome.steps.map(stepJson);
  const migrate = outcome.steps.find((s) => s.name === 'migrate');
  result.applied =
    outcome.status === 'completed' ? ((migrate?.detail?.applied as string[] | undefined) ?? []) : [];
  const stepsForEvent = outcome.steps.map((s) => ({
    name: s.name,
    status: s.status,
    ...(s.durationMs !== null ? { durationMs: s.durationMs } : {}),
  }));
  const status: RunStatus = outcome.status;
  const nextWindow = nextWindowAfter(plan.window, clock.now());
  switch (outcome.status) {
    case 'completed':
      publisher.publish({ ...eventBase, type: 'maintenance_completed', steps: stepsForEvent });
      break;
    case 'rescheduled':
      publisher.publish({
        ...eventBase,
        type: 'maintenance_rescheduled',
        steps: stepsForEvent,
        error: outcome.error,
        ...(nextWindow ? { nextWindow } : {}),
      });
      break;
    case 'rolled_back':
      publisher.publish({
        ...eventBase,
        type: 'maintenance_rolled_back',
        steps: stepsForEvent,
        error: outcome.error,
      });
      break;
    case 'failed':
      publisher.publish({
        ...eventBase,
        type: 'maintenance_failed',
        steps: stepsForEvent,
        error: outcome.error,
      });
      break;
  }
  result.notifications = await publisher.settle();
  const note = outcome.error ? `${outcome.status}: ${redact(outcome.error.message)}` : null;
  await journal.updateRun(runId, {
    status,
    finishedAt: clock.now().toISOString(),
    error: outcome.error ? { code: outcome.error.code, message: redact(outcome.error.message) } : null,
    note: [record.note, note].filter(Boolean).join('; ') || null,
    notifications: result.notifications,
  });
  if (outcome.error) fail(outcome.error, outcome.status);
  result.status = 'completed';
  return result;
}

function stepJson(s: StepResult): RunResult['steps'][number] {
  return {
    name: s.name,
    status: s.status,
    durationMs: s.durationMs,
    estimateMs: s.estimateMs,
    detail: s.detail,
  };
}

interface RecoverInput {
  interrupted: RunRecord;
  steps: Step[];
  estimates: ReturnType<typeof estimateSteps>;
  journal: Journal;
  publisher: Publisher;
  span: WindowInstance;
  reason: string;
  windowStop: boolean;
}

/** Roll back an interrupted run in its own journal entry, then report why. */
async function recoverByRollback(input: LockedInput, r: RecoverInput): Promise<RunResult> {
  const { loaded, clock, logger, db, lock, result, fail } = input;
  const old = await r.journal.steps(r.interrupted.runId);
  const statusOf = new Map(old.map((s) => [s.name, s]));
  const results: StepResult[] = r.steps.map((s, i) => {
    const prev = statusOf.get(s.name);
    return {
      name: s.name,
      status: prev?.status ?? 'pending',
      durationMs: prev?.durationMs ?? null,
      estimateMs: r.estimates[i]!.runMs,
      rollbackMs: null,
      detail: prev?.detail ?? null,
    };
  });
  // Everything the interrupted run started and did not already undo.
  const touched = results
    .map((s, i) => (['pending', 'skipped', 'rolled_back'].includes(s.status) ? -1 : i))
    .filter((i) => i >= 0);
  const state: RunState = { baseline: r.interrupted.baseline, saveBaseline: async () => undefined };
  result.runId = r.interrupted.runId;
  const failure = await rollbackSteps(
    {
      runId: r.interrupted.runId,
      planPath: loaded.displayPath,
      windowSpec: loaded.plan.window,
      window: null,
      steps: r.steps,
      estimates: r.estimates,
      journal: r.journal,
      clock,
      logger,
      db,
      lock,
      state,
      ...(input.options.onProgress ? { onProgress: input.options.onProgress } : {}),
    },
    results,
    touched,
    null,
  );
  result.steps = results.map(stepJson);
  const eventBase = { plan: loaded.plan, runId: r.interrupted.runId, window: r.span };
  r.publisher.publish({
    ...eventBase,
    type: failure ? 'maintenance_failed' : 'maintenance_rolled_back',
    summary: `Maintenance ${loaded.plan.name}: ${r.reason}.`,
    ...(failure ? { error: failure } : {}),
  });
  result.notifications = await r.publisher.settle();
  await r.journal.updateRun(r.interrupted.runId, {
    status: failure ? 'failed' : 'rolled_back',
    finishedAt: clock.now().toISOString(),
    note: `recovered by pid ${process.pid}: ${r.reason}${failure ? `; rollback failed: ${redact(failure.message)}` : ''}`,
    notifications: result.notifications,
    ...(failure ? { error: { code: failure.code, message: redact(failure.message) } } : {}),
  });
  if (failure) fail(failure, 'failed');
  const hint = `\`maint status ${loaded.displayPath}\` shows the journal; run \`maint run ${loaded.displayPath}\` again ${r.windowStop ? 'in the next window' : 'once the cause is fixed'}.`;
  if (r.windowStop) {
    return fail(
      new WindowError('INTERRUPTED_RUN_ROLLED_BACK', `rolled back the interrupted run: ${r.reason}`, {
        hint,
      }),
      'rolled_back',
    );
  }
  return fail(
    new RolledBackError('INTERRUPTED_RUN_ROLLED_BACK', `rolled back the interrupted run: ${r.reason}`, {
      hint,
    }),
    'rolled_back',
  );
}
