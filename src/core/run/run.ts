/**
 * `maint run` as a use case: refuse outside the window, open the database, read what is
 * pending, take the lock, settle an interrupted run (recover.ts), run the strategy's steps
 * through the engine, tell everyone, journal it all. Returns a RunResult whose `error` is set
 * when the run did not complete; it never throws one.
 */
import type { Database } from '../../db/database.js';
import { describeHolder } from '../../db/identity.js';
import {
  InputError,
  LockHeldError,
  OperatorActionError,
  WindowError,
  toMaintError,
  type MaintError,
} from '../../errors.js';
import { act, hint } from '../../hints.js';
import { formatDuration } from '../../plan/duration.js';
import type { LoadedPlan } from '../../plan/loader.js';
import { formatLocal } from '../../window/window.js';
import { runSteps } from '../engine/engine.js';
import { checkTime, describeNext, nextWindowAfter, openWindow } from '../engine/guard.js';
import { GUARD_OVERRIDE, LINT_SUPPRESSED, createRunState } from '../engine/state.js';
import { Emitter, fanOut, type EventData, type EventSink } from '../events.js';
import { journalSubscriber } from '../journal/journal-subscriber.js';
import { needsOperator, unresolvedError } from '../journal/unresolved.js';
import type { Ports } from '../ports.js';
import { preflight, type OpenedFleet } from '../preflight.js';
import { suppressionsIn } from '../inspect/lint.js';
import { errorJson } from '../result.js';
import { windowJson } from '../../window/report.js';
import { EVENT_OF_OUTCOME, stepsForEvent } from './outcome-events.js';
import { hasWork, prepare, refresh, type Prepared } from './prepare.js';
import { HISTORY_RUNS, checkReleaseGuard } from './release-guard.js';
import { Publisher, announce, reportFailedDeliveries } from './publish.js';
import { decideRecovery, rollBackInterrupted } from './recover.js';
import { stepJson, type RunResult } from './result.js';
import { closingPatch, newRunId, newRunRecord } from './run-record.js';
import type { RunOptions, RunScope } from './scope.js';
import { warnOnSkew } from './skew.js';

export type { RunOptions } from './scope.js';
export type { RunResult } from './result.js';

export async function runPlan(
  ports: Ports,
  sink: EventSink,
  loaded: LoadedPlan,
  options: RunOptions = {},
): Promise<RunResult> {
  const { plan } = loaded;
  const now = ports.clock.now();
  const window = openWindow(plan.window, now);
  const next = nextWindowAfter(plan.window, now);
  const zone = plan.window.timezone;
  const result: RunResult = {
    plan: plan.name,
    runId: null,
    status: 'refused',
    steps: [],
    notifications: [],
    error: null,
    emergency: options.emergencyReason ? { reason: options.emergencyReason } : null,
    recovered: null,
    guard: null,
    applied: [],
    window: window ? windowJson(window, zone) : null,
    nextWindow: next ? windowJson(next, zone) : null,
  };
  const applied: string[] = [];
  let frozen: EventData['clone.frozen'] | undefined;
  const collect: EventSink = {
    emit: (e) => {
      if (e.code === 'migration.migrated') applied.push(e.data.name);
      if (e.code === 'clone.frozen') frozen = e.data;
    },
  };
  const events = new Emitter(
    plan.name,
    fanOut(sink, collect),
    () => ports.clock.now(),
    (error) => ports.logger.warn(`could not journal: ${error.message}`),
  );
  let error: MaintError | null;
  try {
    error = await attempt(ports, loaded, options, events, result);
  } catch (thrown) {
    error = toMaintError(thrown);
    if (result.runId) result.status = 'failed';
  }
  if (result.status === 'completed') result.applied = applied;
  if (result.status === 'completed' && frozen) {
    result.freeze = { totalMs: frozen.totalMs, phases: frozen.phases };
    result.databaseUrl = frozen.databaseUrl;
  }
  if (error) result.error = errorJson(error.bindPlan(loaded.path));
  events.tell(
    'run.finished',
    { status: result.status, error: result.error },
    {
      message: `${plan.name}: ${result.status}${result.error ? ` (${result.error.code})` : ''}`,
      level: result.error ? 'error' : 'info',
    },
  );
  return result;
}

/** Everything up to the lock; returns why the run did not complete, or null. */
async function attempt(
  ports: Ports,
  loaded: LoadedPlan,
  options: RunOptions,
  events: Emitter,
  result: RunResult,
): Promise<MaintError | null> {
  if (options.forceRollback && !options.forceRollback.reason.trim()) return forceNeedsReason();
  const fleet = await preflight(ports, loaded, { keepFleet: true });
  try {
    return await attemptWith(ports, loaded, options, events, result, fleet);
  } finally {
    await fleet?.fleet.close().catch(() => undefined);
  }
}

async function attemptWith(
  ports: Ports,
  loaded: LoadedPlan,
  options: RunOptions,
  events: Emitter,
  result: RunResult,
  fleet: OpenedFleet | null,
): Promise<MaintError | null> {
  const { plan } = loaded;
  const now = ports.clock.now();
  const window = openWindow(plan.window, now);
  // Outside the window nothing is opened, locked or written.
  if (!window && !options.emergencyReason) {
    const next = nextWindowAfter(plan.window, now);
    return new WindowError(
      'WINDOW_CLOSED',
      `the maintenance window of ${plan.name} is closed now (${formatLocal(now, plan.window.timezone)}); ${describeNext(plan.window, next)}`,
      {
        hint: hint('Run it in the next window, or now with {emergency}; {window} lists the windows.', {
          emergency: act('run', loaded.path, { emergency: true, reason: '…' }),
          window: act('window', loaded.path),
        }),
        details: { nextWindow: next?.start.toISOString() ?? null },
      },
    );
  }
  const db = await ports.openDatabase(plan.database, loaded.dir, ports.logger);
  const opened: Database[] = [];
  try {
    if (!ports.clock.pinned) await warnOnSkew(db, ports.clock, events);
    const journal = ports.journal(db);
    const input = { ports, loaded, db, journal, window, emergency: Boolean(options.emergencyReason), fleet };
    const prepared = await prepare(input);
    // The expand/contract guard, read-only, before the lock and before anything is written.
    if (fleet) {
      const guard = await checkReleaseGuard({
        caller: 'run',
        loaded,
        fleet: fleet.state,
        runs: await journal.runs(plan.name, HISTORY_RUNS),
        pending: prepared.pending.map((p) => p.name),
        order: (await prepared.work.migrator.all()).map((m) => m.name),
        ...(options.forceRollback ? { force: options.forceRollback } : {}),
      });
      if (guard) {
        result.guard = guard.report;
        if (guard.error) return guard.error;
      }
    }
    // Only an operator resolves a point of no return: refused before the lock, nothing touched.
    if (needsOperator(prepared.interrupted)) {
      result.status = 'refused';
      return unresolvedError(prepared.interrupted!, loaded.path);
    }
    // Without an interrupted run to settle, "nothing to do" and "no time" need no lock: touch nothing.
    if (!prepared.interrupted) {
      if (!hasWork(prepared)) {
        result.status = 'nothing_pending';
        return null;
      }
      const short = refuseTooShort(loaded, prepared, ports, result);
      if (short) return short;
    }
    const lock = await db.acquireLock(plan.name, { wait: false, purpose: 'run' });
    if (!lock) {
      const holder = await db.lockStatus(plan.name).catch(() => null);
      events.tell('lock.held', { holder });
      return new LockHeldError(
        `another run holds the lock of ${plan.name}${holder ? `: ${describeHolder(holder)}` : ''}`,
        {
          hint: hint('Wait for it to finish ({status}), or see {lock}.', {
            status: act('status', loaded.path),
            lock: act('lock', loaded.path),
          }),
          details: { holder },
        },
      );
    }
    try {
      const notify = await ports.notify();
      const channels = plan.notify.channels.length > 0 ? await notify.createChannels(plan, loaded.dir) : [];
      const publisher = new Publisher(notify, channels, ports.logger);
      const scope: RunScope = {
        ports,
        loaded,
        plan: { name: plan.name, path: loaded.path, dir: loaded.dir },
        options,
        db,
        lock,
        journal,
        events,
        notify,
        publisher,
        stepPorts: {
          openDatabase: async (config) => {
            const other = await ports.openDatabase(config, loaded.dir, ports.logger);
            opened.push(other);
            return other;
          },
        },
        result,
      };
      // Channels subscribe to the maintenance events; the journal to every transition.
      events.attach(publisher);
      events.subscribe(journalSubscriber(journal));
      return await runLocked(scope, await refresh(input, prepared));
    } finally {
      await lock
        .release()
        .catch((e: unknown) => ports.logger.warn(`could not release the lock: ${(e as Error).message}`));
    }
  } finally {
    for (const other of opened) await other.close().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
}

function forceNeedsReason(): MaintError {
  return new InputError(
    'FORCE_ROLLBACK_NEEDS_REASON',
    '--force-rollback needs --reason "…"; nothing was started',
    [],
    {
      hint: 'Say why returning to the old release is safe, e.g. --reason "v1 never read orders.legacy_status"; the reason is journaled.',
    },
  );
}

function refuseTooShort(loaded: LoadedPlan, p: Prepared, ports: Ports, result: RunResult): MaintError | null {
  const verdict = checkTime(
    loaded.plan.window,
    p.guardWindow,
    ports.clock.now(),
    p.totalMs,
    `the run (estimate ${formatDuration(p.totalMs)})`,
  );
  if (verdict.ok) return null;
  result.status = 'refused';
  result.steps = p.steps.map((s, i) => ({
    name: s.name,
    status: 'skipped',
    durationMs: null,
    estimateMs: p.estimates[i]!.runMs,
  }));
  return new WindowError(verdict.code, `not started: ${verdict.message}`, {
    hint: hint(
      "Nothing was touched. Run {run} in the next window, or lower the plan's estimate if it is too pessimistic.",
      { run: act('run', loaded.path) },
    ),
    details: { remainingMs: verdict.remainingMs, neededMs: verdict.neededMs },
  });
}

/** Under the lock: settle an interrupted run, then run the steps. */
async function runLocked(scope: RunScope, prepared: Prepared): Promise<MaintError | null> {
  const { ports, loaded, result, events } = scope;
  const interrupted = prepared.interrupted;
  let resumed: { runId: string; state: Record<string, unknown> | null; reason: string } | null = null;
  // Found only under the lock (another runner failed meanwhile): still nothing is started.
  if (needsOperator(interrupted)) {
    result.status = 'refused';
    return unresolvedError(interrupted!, loaded.path);
  }
  if (interrupted) {
    const verdict = checkTime(
      loaded.plan.window,
      prepared.guardWindow,
      ports.clock.now(),
      prepared.totalMs,
      'finishing the interrupted run',
    );
    const lastStep = (await scope.journal.steps(interrupted.runId))
      .filter((s) => s.status !== 'pending')
      .at(-1);
    const decision = decideRecovery(interrupted, lastStep?.name, verdict);
    result.recovered = { runId: interrupted.runId, action: decision.action, reason: decision.reason };
    events.tell(
      'run.recovering',
      { interruptedRunId: interrupted.runId, action: decision.action, reason: decision.reason },
      { message: `${decision.action === 'resumed' ? 'resuming' : 'rolling back'}: ${decision.reason}` },
    );
    if (decision.action === 'rolled_back') {
      const error = await rollBackInterrupted(scope, prepared, interrupted, decision);
      result.status = error instanceof OperatorActionError ? 'failed' : 'rolled_back';
      return error;
    }
    resumed = { runId: interrupted.runId, state: interrupted.state, reason: decision.reason };
  } else if (!hasWork(prepared)) {
    result.status = 'nothing_pending';
    return null;
  }
  // Before anything starts: the whole run must fit in what is left of the window.
  return refuseTooShort(loaded, prepared, ports, result) ?? execute(scope, prepared, resumed);
}

async function execute(
  scope: RunScope,
  prepared: Prepared,
  resumed: { runId: string; state: Record<string, unknown> | null; reason: string } | null,
): Promise<MaintError | null> {
  const { ports, loaded, result, events } = scope;
  const { plan } = loaded;
  const clock = ports.clock;
  const runId = newRunId(clock);
  result.runId = runId;
  events.runId = runId;
  if (resumed)
    await events.emit(
      'run.updated',
      { patch: { status: 'resumed', finishedAt: clock.now().toISOString(), note: `resumed by ${runId}` } },
      { runId: resumed.runId },
    );
  const record = newRunRecord({
    runId,
    plan: plan.name,
    clock,
    host: ports.host,
    emergencyReason: scope.options.emergencyReason ?? null,
    span: prepared.span,
    resumed,
  });
  const override = result.guard?.override;
  if (override) {
    // The forced rollback is journaled with the run: in its state and its note.
    record.state = { ...(record.state ?? {}), [GUARD_OVERRIDE.name]: override };
    record.note = [record.note, `forced rollback: ${override.reason}`].filter(Boolean).join('; ');
  }
  // Lint rules a migration of this run suppresses are journaled with the run (who decided what).
  const suppressed = await suppressionsIn(
    loaded,
    prepared.pending.map((m) => m.name),
  );
  if (suppressed.length > 0) record.state = { ...(record.state ?? {}), [LINT_SUPPRESSED.name]: suppressed };
  await events.emit('run.started', { run: record }, { message: `run ${runId} of ${plan.name}` });
  const state = createRunState(record.state, (key, all) =>
    events.emit('state.set', { key, state: all }, { message: `run state "${key}" journaled` }),
  );
  const eventBase = {
    plan,
    runId,
    window: prepared.span,
    ...(result.emergency ? { emergency: result.emergency } : {}),
  };
  announce(scope.notify, clock, events, { ...eventBase, type: 'maintenance_started' });

  const outcome = await runSteps({
    runId,
    plan: scope.plan,
    windowSpec: plan.window,
    window: prepared.guardWindow,
    steps: prepared.steps,
    estimates: prepared.estimates,
    events,
    clock,
    logger: ports.logger,
    db: scope.db,
    lock: scope.lock,
    state,
    ports: scope.stepPorts,
    ...(scope.options.signal ? { signal: scope.options.signal } : {}),
  }).catch(async (error: unknown) => {
    // The engine handles step failures itself; this is a journal or engine fault.
    await events.emit(
      'run.updated',
      { patch: closingPatch('failed', clock, toMaintError(error), [], null) },
      { bestEffort: true },
    );
    throw error;
  });

  result.steps = outcome.steps.map(stepJson);
  const nextWindow = nextWindowAfter(plan.window, clock.now());
  announce(scope.notify, clock, events, {
    ...eventBase,
    type: EVENT_OF_OUTCOME[outcome.status],
    steps: stepsForEvent(outcome.steps),
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.status === 'rescheduled' && nextWindow ? { nextWindow } : {}),
  });
  result.notifications = await scope.publisher.settle();
  reportFailedDeliveries(events, result.notifications);
  await events.emit('run.updated', {
    patch: closingPatch(
      outcome.status,
      clock,
      outcome.error,
      [record.note, outcome.error ? `${outcome.status}: ${outcome.error.message}` : null],
      result.notifications,
    ),
  });
  result.status = outcome.status;
  return outcome.error;
}
