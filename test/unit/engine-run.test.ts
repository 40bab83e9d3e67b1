import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCore } from '../../src/core/core.js';
import { runSteps } from '../../src/core/engine/engine.js';
import { createRunState, stateKey } from '../../src/core/engine/state.js';
import type { Step } from '../../src/core/engine/step.js';
import { Emitter } from '../../src/core/events.js';
import { journalSubscriber } from '../../src/core/journal/journal-subscriber.js';
import type { ErrorJson } from '../../src/core/result.js';
import type { RunOptions, RunResult } from '../../src/core/run/run.js';
import { MaintError } from '../../src/errors.js';
import { renderHint } from '../../src/hints.js';
import type { LoadedPlan } from '../../src/plan/loader.js';
import { PlanSchema, type PlanInput } from '../../src/plan/schema.js';
import { createMemoryLogger, type Logger } from '../../src/support/logger.js';
import {
  FakeClock,
  MemoryJournal,
  collectingSink,
  fakePorts,
  type FakeMigration,
  type FakePorts,
} from '../helpers/fakes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'maint-engine-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function loaded(overrides: Partial<PlanInput> = {}): LoadedPlan {
  const plan = PlanSchema.parse({
    version: 1,
    name: 'orders',
    window: { timezone: 'UTC', days: ['daily'], start: '00:00', duration: '24h' },
    database: { engine: 'postgres', url: 'postgres://x@localhost/db' },
    post: { analyze: true },
    checks: [{ name: 'no orders lost', sql: 'select count(*) from orders', expect: 'unchanged' }],
    notify: {
      banner: { file: 'site/_data/banner.yml', text: 'Maintenance {{window.startLocal}} ({{plan.name}})' },
    },
    ...overrides,
  });
  return { plan, path: 'plan.yaml', file: path.join(dir, 'plan.yaml'), dir };
}

interface Harness {
  ports: FakePorts;
  db: FakePorts['db'];
  migrator: FakePorts['migrator'];
  journal: MemoryJournal;
  notify: FakePorts['notifyPort'];
  clock: FakeClock;
  sink: ReturnType<typeof collectingSink>;
  orders: { count: number };
  readonly opened: number;
  run(extra?: RunOptions & { logger?: Logger }, plan?: LoadedPlan): Promise<RunResult>;
}

/** A whole plan on fake ports: `createCore(ports, sink).run(...)`, no module mocking. */
function harness(now: string, migrations?: FakeMigration[], planOverrides: Partial<PlanInput> = {}): Harness {
  const clock = new FakeClock(now);
  const ports = fakePorts({
    clock,
    migrations: migrations ?? [
      { name: '001_create_orders' },
      { name: '002_add_status', down: () => undefined },
    ],
  });
  const orders = { count: 3 };
  ports.db.answers.set('select count(*) from orders', () => [{ count: String(orders.count) }]);
  const sink = collectingSink();
  return {
    ports,
    db: ports.db,
    migrator: ports.migrator,
    journal: ports.memoryJournal,
    notify: ports.notifyPort,
    clock,
    sink,
    orders,
    get opened() {
      return ports.opened;
    },
    run: ({ logger, ...options } = {}, plan = loaded(planOverrides)) =>
      createCore(logger ? { ...ports, logger } : ports, sink).run(plan, options),
  };
}

/** The run's error, with the hint rendered as the CLI shows it and the whole result beside it. */
async function failure(p: Promise<RunResult>): Promise<ErrorJson & { hint: string; result: RunResult }> {
  const result = await p;
  if (!result.error) throw new Error(`expected the run to fail, it ended ${result.status}`);
  return { ...result.error, hint: result.error.next ? renderHint(result.error.next) : '', result };
}

const banner = (d = dir) => readFile(path.join(d, 'site/_data/banner.yml'), 'utf8');

describe('maint run engine (fakes)', () => {
  it('runs every step in order, journals them, and turns the banner on then off', async () => {
    const h = harness('2026-11-29T10:00:00Z');
    const result = await h.run();
    expect(result.status).toBe('completed');
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['lock', 'done'],
      ['banner:active', 'done'],
      ['baseline', 'done'],
      ['migrate', 'done'],
      ['analyze', 'done'],
      ['checks', 'done'],
      ['banner:off', 'done'],
    ]);
    expect(result.applied).toEqual(['001_create_orders', '002_add_status']);
    expect(h.db.analyzeCalls).toEqual([{ mode: 'full', vacuum: true, signal: expect.any(AbortSignal) }]);
    // The lock is verified before every step and released at the end.
    expect(h.db.session_!.verifications).toBeGreaterThanOrEqual(7);
    expect(h.db.session_!.released).toBe(true);
    // The banner went active during the run (progress saw it) and is off now.
    expect(h.sink.events.some((e) => e.code === 'step.done' && e.data.step.name === 'banner:active')).toBe(
      true,
    );
    expect(await banner()).toContain('enabled: false');
    expect(await banner()).toContain('state: "off"');
    const [run] = await h.journal.runs('orders', 5);
    expect(run).toMatchObject({
      status: 'completed',
      runId: result.runId,
      state: { baseline: { appliedBefore: null, checks: { 'no orders lost': '3' } } },
    });
    const steps = await h.journal.steps(result.runId!);
    expect(steps.map((s) => s.status)).toEqual(Array(7).fill('done'));
    expect(h.notify.events.map((e) => e.type)).toEqual(['maintenance_started', 'maintenance_completed']);
    // Every coded event, in order, each carrying the run id.
    expect(h.sink.codes()).toEqual([
      'run.started',
      'maintenance',
      ...['lock', 'banner:active'].flatMap(() => ['step.running', 'step.done']),
      'step.running', // baseline
      'state.set',
      'step.done',
      'step.running', // migrate
      ...['migration.migrating', 'migration.migrated', 'migration.migrating', 'migration.migrated'],
      'step.done',
      ...['analyze', 'checks', 'banner:off'].flatMap(() => ['step.running', 'step.done']),
      'maintenance',
      'run.updated',
      'run.finished',
    ]);
    expect(new Set(h.sink.events.map((e) => e.runId))).toEqual(new Set([result.runId]));
    expect(
      h.sink.events
        .filter((e) => e.code === 'step.running')
        .map((e) => e.code === 'step.running' && e.data.step.name),
    ).toEqual(['lock', 'banner:active', 'baseline', 'migrate', 'analyze', 'checks', 'banner:off']);
    expect(h.sink.events.at(-1)).toMatchObject({
      code: 'run.finished',
      data: { status: 'completed', error: null },
    });
  });

  it('runs a whole plan with operations (lock, operations, migrate, analyze, checks, banner): coded events in order', async () => {
    const h = harness('2026-11-29T10:00:00Z', undefined, {
      operations: [
        {
          name: 'scram',
          kind: 'sql',
          run: "alter system set password_encryption = 'scram-sha-256'",
          when: 'before-migrations',
        },
        { name: 'warm-cache', kind: 'command', run: 'echo warmed | tee -a ops.log' },
      ],
    });
    // With operations, a plan without a migrations folder has no migrate step: this one has one.
    await mkdir(path.join(dir, 'migrations'));
    const result = await h.run();
    expect(result.status).toBe('completed');
    const transitions = h.sink.events
      .filter((e) => e.code === 'step.running' || e.code === 'step.done')
      .map((e) => `${e.code} ${'step' in e.data ? e.data.step.name : ''}`);
    expect(transitions).toEqual(
      [
        'lock',
        'banner:active',
        'baseline',
        'operation:scram',
        'migrate',
        'operation:warm-cache',
        'analyze',
        'checks',
        'banner:off',
      ].flatMap((name) => [`step.running ${name}`, `step.done ${name}`]),
    );
    expect(h.sink.codes().slice(0, 2)).toEqual(['run.started', 'maintenance']);
    expect(h.sink.codes().slice(-3)).toEqual(['maintenance', 'run.updated', 'run.finished']);
    // The SQL went to the plan's database; the command ran in the plan's folder.
    expect(h.db.queries.join('\n')).toContain("alter system set password_encryption = 'scram-sha-256'");
    expect(await readFile(path.join(dir, 'ops.log'), 'utf8')).toBe('warmed\n');
    // Journaled with their checksum, so the next run finds nothing pending.
    const steps = await h.journal.steps(result.runId!);
    expect(steps.find((s) => s.name === 'operation:warm-cache')).toMatchObject({
      status: 'done',
      detail: { kind: 'command', exitCode: 0, output: 'warmed\n' },
    });
    expect((await h.run()).status).toBe('nothing_pending');
  });

  it('says nothing is pending on a second run and touches nothing', async () => {
    const h = harness('2026-11-29T10:00:00Z');
    await h.run();
    const before = await banner();
    const again = await h.run();
    expect(again.status).toBe('nothing_pending');
    expect(again.steps).toEqual([]);
    expect(h.migrator.upCalls).toBe(1);
    expect(await banner()).toBe(before);
    expect(await h.journal.runs('orders', 10)).toHaveLength(1);
  });

  it('refuses outside the window with exit 3, opens nothing and names the next window', async () => {
    const h = harness('2026-11-29T23:00:00Z');
    const plan = loaded({ window: { timezone: 'UTC', days: ['daily'], start: '01:00', duration: '2h' } });
    const error = await failure(h.run({}, plan));
    expect(error.exitCode).toBe(3);
    expect(error.code).toBe('WINDOW_CLOSED');
    expect(error.message).toContain('next window: 2026-11-30T01:00:00.000Z');
    expect(h.opened).toBe(0);
    expect(h.migrator.upCalls).toBe(0);
    await expect(banner()).rejects.toThrow(/ENOENT/);
    expect(error.result.status).toBe('refused');
  });

  it('runs outside the window with --emergency and journals and announces the reason', async () => {
    const h = harness('2026-11-29T23:00:00Z');
    const plan = loaded({ window: { timezone: 'UTC', days: ['daily'], start: '01:00', duration: '2h' } });
    const result = await h.run({ emergencyReason: 'disk almost full' }, plan);
    expect(result.status).toBe('completed');
    expect(result.emergency).toEqual({ reason: 'disk almost full' });
    const [run] = await h.journal.runs('orders', 1);
    expect(run!.emergencyReason).toBe('disk almost full');
    expect(h.notify.events[0]).toMatchObject({
      type: 'maintenance_started',
      emergency: { reason: 'disk almost full' },
    });
  });

  it('refuses to start when the estimate does not fit in the time left (exit 3, nothing touched)', async () => {
    const h = harness('2026-11-29T23:50:00Z', undefined, { estimate: '30m' });
    const error = await failure(h.run());
    expect(error.exitCode).toBe(3);
    expect(error.code).toBe('WINDOW_TOO_SHORT');
    expect(error.message).toMatch(/10m left in the window, but the run \(estimate 30m\) needs about 30m/);
    expect(h.migrator.upCalls).toBe(0);
    expect(await h.journal.exists()).toBe(false);
    await expect(banner()).rejects.toThrow(/ENOENT/);
  });

  it('cancels a step still running at the window end, rolls back and journals why', async () => {
    const h = harness(
      '2026-11-29T23:59:30Z',
      [{ name: '001_create_orders' }, { name: '002_slow', hang: true }],
      { estimate: '5s' },
    );
    h.migrator.onHang = () => queueMicrotask(() => h.clock.advance(60_000));
    const error = await failure(h.run());
    expect(error.exitCode).toBe(3);
    expect(error.code).toBe('WINDOW_ENDED');
    const result = error.result;
    expect(result.status).toBe('rescheduled');
    expect(result.steps.find((s) => s.name === 'migrate')!.status).toBe('rolled_back');
    expect(h.migrator.applied_).toEqual([]);
    expect(h.migrator.downCalls).toEqual([0]);
    expect(await banner()).toContain('enabled: false');
    const [run] = await h.journal.runs('orders', 1);
    expect(run!.status).toBe('rescheduled');
    expect(run!.note).toMatch(/window ended .* cancelled/);
    const steps = await h.journal.steps(run!.runId);
    expect(steps.find((s) => s.name === 'migrate')).toMatchObject({ status: 'rolled_back' });
    expect(h.notify.events.map((e) => e.type)).toEqual(['maintenance_started', 'maintenance_rescheduled']);
  });

  it('stops at a safe point when the next step and the undo no longer fit, and reschedules', async () => {
    const h = harness('2026-11-29T23:00:00Z', [{ name: '001_a' }], { estimate: '30m' });
    // The migration takes 55 minutes of wall time: the steps after it no longer fit.
    h.migrator.migrations[0]!.up = () => h.clock.advance(55 * 60_000);
    const error = await failure(h.run());
    expect(error.exitCode).toBe(3);
    expect(error.code).toBe('WINDOW_TOO_SHORT');
    expect(error.message).toMatch(/stopped before "analyze"/);
    expect(h.migrator.applied_).toEqual([]);
    expect(h.notify.events.at(-1)).toMatchObject({
      type: 'maintenance_rescheduled',
      nextWindow: { start: '2026-11-30T00:00:00.000Z' },
    });
  });

  it('rolls back with exit 5 when an integrity check fails', async () => {
    const h = harness('2026-11-29T10:00:00Z', [{ name: '001_a' }, { name: '002_loses_rows' }]);
    h.migrator.migrations[1]!.up = () => (h.orders.count -= 1);
    h.migrator.migrations[1]!.down = () => (h.orders.count += 1);
    const error = await failure(h.run());
    expect(error.exitCode).toBe(5);
    expect(error.code).toBe('CHECK_FAILED');
    expect(error.message).toContain('"no orders lost" expected unchanged (3), got 2');
    expect(h.orders.count).toBe(3);
    expect(h.migrator.applied_).toEqual([]);
    expect(await banner()).toContain('enabled: false');
    const [run] = await h.journal.runs('orders', 1);
    expect(run).toMatchObject({ status: 'rolled_back', error: { code: 'CHECK_FAILED' } });
    expect(h.notify.events.map((e) => e.type)).toEqual(['maintenance_started', 'maintenance_rolled_back']);
  });

  it('needs an operator (exit 6) when a rollback step fails', async () => {
    const h = harness('2026-11-29T10:00:00Z', [
      { name: '001_a', hasDown: false },
      { name: '002_b', failUp: true },
    ]);
    const error = await failure(h.run());
    expect(error.exitCode).toBe(6);
    expect(error.code).toBe('ROLLBACK_FAILED');
    expect(error.message).toContain('rolling back step "migrate" failed');
    expect(error.hint).toContain('maint migrate down');
    const [run] = await h.journal.runs('orders', 1);
    expect(run!.status).toBe('failed');
    expect(h.notify.events.at(-1)!.type).toBe('maintenance_failed');
  });

  it('a failed run is settled by the next run: its rollback is finished once the down migration exists', async () => {
    const h = harness('2026-11-29T10:00:00Z', [
      { name: '001_a', hasDown: false },
      { name: '002_b', failUp: true },
    ]);
    expect((await failure(h.run())).code).toBe('ROLLBACK_FAILED');
    expect(await banner()).toContain('enabled: true');
    // Unfixed: it tries again and says so (never "nothing is pending").
    expect(await failure(h.run())).toMatchObject({ code: 'ROLLBACK_FAILED', exitCode: 6 });
    h.migrator.migrations[0]!.hasDown = true;
    const settled = await failure(h.run());
    expect(settled).toMatchObject({ code: 'FAILED_RUN_ROLLED_BACK', exitCode: 5 });
    expect(h.migrator.applied_).toEqual([]);
    const runs = await h.journal.runs('orders', 5);
    expect(runs.map((r) => r.status)).toEqual(['rolled_back']);
    expect(await banner()).toContain('enabled: false');
  });

  it('exits 4 when another run holds the lock, touching nothing', async () => {
    const h = harness('2026-11-29T10:00:00Z');
    h.db.lockHeldBy = {
      lockId: 'l',
      host: 'ci-7',
      pid: 99,
      purpose: 'run',
      since: '2026-11-29T09:00:00Z',
      lastHeartbeat: '2026-11-29T09:59:59Z',
    };
    const error = await failure(h.run());
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('ci-7 pid 99');
    expect(h.migrator.upCalls).toBe(0);
    await expect(banner()).rejects.toThrow(/ENOENT/);
  });

  it('resumes an interrupted run when the window has time, reusing its baseline', async () => {
    const h = harness('2026-11-29T10:00:00Z', [{ name: '001_a' }, { name: '002_b' }]);
    // A previous process died during migrate after applying 001 (with 4 orders before it ran).
    await h.migrator.up().then(() => h.migrator.applied_.splice(1));
    h.migrator.applyCount.clear();
    h.orders.count = 4;
    await h.journal.ensure();
    await h.journal.insertRun({
      runId: 'run_old',
      plan: 'orders',
      status: 'running',
      startedAt: '2026-11-29T09:59:00.000Z',
      finishedAt: null,
      host: 'h',
      pid: 1,
      emergencyReason: null,
      windowStart: null,
      windowEnd: null,
      resumedFrom: null,
      state: { baseline: { appliedBefore: null, checks: { 'no orders lost': '4' } } },
      error: null,
      note: null,
      notifications: null,
    });
    await h.journal.putStep({
      runId: 'run_old',
      seq: 3,
      name: 'migrate',
      status: 'running',
      startedAt: '2026-11-29T09:59:30.000Z',
      finishedAt: null,
      durationMs: null,
      rollbackMs: null,
      detail: null,
    });
    const result = await h.run();
    expect(result.status).toBe('completed');
    expect(result.recovered).toMatchObject({ runId: 'run_old', action: 'resumed' });
    expect(result.recovered!.reason).toMatch(/stopped during step "migrate".*resumed/);
    expect(h.migrator.applyCount.get('001_a')).toBeUndefined();
    expect(h.migrator.applyCount.get('002_b')).toBe(1);
    const runs = await h.journal.runs('orders', 5);
    expect(runs.find((r) => r.runId === 'run_old')!.status).toBe('resumed');
    expect(runs.find((r) => r.runId === result.runId)).toMatchObject({
      resumedFrom: 'run_old',
      status: 'completed',
      state: { baseline: { checks: { 'no orders lost': '4' } } },
    });
  });

  it('finishes the rollback of a run that died while rolling back (exit 5)', async () => {
    const h = harness('2026-11-29T10:00:00Z', [{ name: '001_a' }, { name: '002_b' }]);
    await h.migrator.up();
    await h.journal.insertRun({
      runId: 'run_old',
      plan: 'orders',
      status: 'rolling_back',
      startedAt: '2026-11-29T09:59:00.000Z',
      finishedAt: null,
      host: 'h',
      pid: 1,
      emergencyReason: null,
      windowStart: null,
      windowEnd: null,
      resumedFrom: null,
      state: { baseline: { appliedBefore: null, checks: {} } },
      error: null,
      note: null,
      notifications: null,
    });
    for (const [seq, name] of [
      'lock',
      'banner:active',
      'baseline',
      'migrate',
      'analyze',
      'checks',
    ].entries()) {
      await h.journal.putStep({
        runId: 'run_old',
        seq,
        name,
        status: name === 'checks' ? 'failed' : 'done',
        startedAt: null,
        finishedAt: null,
        durationMs: 5,
        rollbackMs: null,
        detail: null,
      });
    }
    const error = await failure(h.run());
    expect(error.exitCode).toBe(5);
    expect(error.code).toBe('INTERRUPTED_RUN_ROLLED_BACK');
    expect(error.message).toMatch(/while it was rolling back/);
    expect(h.migrator.applied_).toEqual([]);
    const [run] = await h.journal.runs('orders', 1);
    expect(run!.status).toBe('rolled_back');
    expect(await banner()).toContain('enabled: false');
  });

  it('warns when the database clock differs from the local clock by more than 5 s', async () => {
    const h = harness('2026-11-29T10:00:00Z');
    h.db.serverOffsetMs = 8000;
    await h.run();
    const skew = h.sink.events.find((e) => e.code === 'run.clock_skew');
    expect(skew).toMatchObject({ level: 'warn', data: { skewMs: 8000 } });
    expect(skew!.message).toMatch(/^the database server's clock is 8s ahead of this machine's/);
    // It comes before anything starts.
    expect(h.sink.codes().indexOf('run.clock_skew')).toBeLessThan(h.sink.codes().indexOf('run.started'));
    const quiet = harness('2026-11-29T10:00:00Z');
    quiet.db.serverOffsetMs = 4000;
    await quiet.run();
    expect(quiet.sink.events.filter((e) => e.level === 'warn')).toEqual([]);
  });
});

describe('engine edge cases', () => {
  it('a stop signal (Ctrl-C) cancels the running step and rolls everything back', async () => {
    const h = harness('2026-11-29T10:00:00Z', [{ name: '001_a' }, { name: '002_slow', hang: true }]);
    const controller = new AbortController();
    h.migrator.onHang = () =>
      queueMicrotask(() => controller.abort(new MaintError('INTERRUPTED', 5, 'interrupted by SIGINT')));
    const error = await failure(h.run({ signal: controller.signal }));
    expect(error.exitCode).toBe(5);
    expect(error.code).toBe('INTERRUPTED');
    expect(h.migrator.applied_).toEqual([]);
    expect((await h.journal.runs('orders', 1))[0]!.status).toBe('rolled_back');
  });

  it('a lost lock stops the run without rolling back (another runner may be acting): exit 6', async () => {
    const h = harness('2026-11-29T10:00:00Z');
    h.migrator.migrations[1]!.up = () => {
      h.db.session_!.lost = true;
    };
    const error = await failure(h.run());
    expect(error.code).toBe('LOCK_LOST');
    expect(error.exitCode).toBe(6);
    expect(h.migrator.downCalls).toEqual([]);
    expect((await h.journal.runs('orders', 1))[0]!.status).toBe('failed');
  });

  it('a done step without rollback is a point of no return: a later failure needs an operator', async () => {
    const journal = new MemoryJournal();
    const clock = new FakeClock('2026-11-29T10:00:00Z');
    const ports = fakePorts({ clock });
    const undone: string[] = [];
    const steps = [
      {
        name: 'a',
        defaultEstimateMs: 1,
        run: async () => undefined,
        rollback: async () => void undone.push('a'),
      },
      { name: 'irreversible', defaultEstimateMs: 1, run: async () => undefined },
      {
        name: 'c',
        defaultEstimateMs: 1,
        run: async () => Promise.reject(new Error('boom')),
        rollback: async () => void undone.push('c'),
      },
    ];
    const plan = loaded();
    const events = new Emitter('orders', collectingSink(), () => clock.now());
    events.runId = 'r';
    events.subscribe(journalSubscriber(journal));
    const lock = (await ports.db.acquireLock('orders', { wait: false, purpose: 'run' }))!;
    const result = await runSteps({
      runId: 'r',
      plan: { name: 'orders', path: 'plan.yaml', dir },
      windowSpec: plan.plan.window,
      window: null,
      steps,
      estimates: steps.map(() => ({ runMs: 1, rollbackMs: 1, source: 'default' as const })),
      events,
      clock,
      logger: createMemoryLogger(),
      db: ports.db,
      lock,
      state: createRunState(null, async () => undefined),
      ports: { openDatabase: async () => ports.db },
    });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'POINT_OF_NO_RETURN', exitCode: 6 });
    expect(undone).toEqual(['c']);
    expect(result.steps.map((s) => s.status)).toEqual(['done', 'done', 'rolled_back']);
    expect(result.error!.message).toMatch(/Done and not undone: a, irreversible\. Left to do: c$/);
    expect(result.error!.details).toMatchObject({ done: ['a', 'irreversible'], leftToDo: ['c'] });
  });
});

describe('steps: their own deadline, journaled state, other databases', () => {
  function engineInput(steps: Step[], clock: FakeClock, journal = new MemoryJournal()) {
    const ports = fakePorts({ clock });
    const events = new Emitter('orders', collectingSink(), () => clock.now());
    events.runId = 'r';
    events.subscribe(journalSubscriber(journal));
    const opened: string[] = [];
    return {
      journal,
      opened,
      events,
      input: async (
        state = createRunState(null, (key, all) => events.emit('state.set', { key, state: all })),
      ) => ({
        runId: 'r',
        plan: { name: 'orders', path: 'plan.yaml', dir },
        windowSpec: loaded().plan.window,
        window: null,
        steps,
        estimates: steps.map(() => ({ runMs: 1, rollbackMs: 1, source: 'default' as const })),
        events,
        clock,
        logger: createMemoryLogger(),
        db: ports.db,
        lock: (await ports.db.acquireLock('orders', { wait: false, purpose: 'run' }))!,
        state,
        ports: {
          openDatabase: async (config: { url: string }) => {
            opened.push(config.url);
            return ports.db;
          },
        },
      }),
    };
  }

  it('cancels a step past its own deadline (a freeze past maxDuration) and rolls back, window or not', async () => {
    const clock = new FakeClock('2026-11-29T10:00:00Z');
    const undone: string[] = [];
    const steps: Step[] = [
      {
        name: 'before',
        defaultEstimateMs: 1,
        run: async () => undefined,
        rollback: async () => void undone.push('before'),
      },
      {
        name: 'freeze',
        defaultEstimateMs: 1,
        deadlineMs: 30_000,
        run: (ctx) =>
          new Promise((_, reject) => {
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
            queueMicrotask(() => clock.advance(31_000));
          }),
        rollback: async () => void undone.push('freeze'),
      },
    ];
    const h = engineInput(steps, clock);
    const result = await runSteps(await h.input());
    expect(result.status).toBe('rolled_back');
    expect(result.error).toMatchObject({ code: 'STEP_DEADLINE', exitCode: 5 });
    expect(result.error!.message).toBe('step "freeze" ran longer than its 30s deadline; it was cancelled');
    expect(result.steps.map((s) => s.status)).toEqual(['rolled_back', 'rolled_back']);
    expect(undone).toEqual(['freeze', 'before']);
    const journaled = await h.journal.steps('r');
    expect(journaled[1]).toMatchObject({
      status: 'rolled_back',
      detail: { error: { code: 'STEP_DEADLINE' } },
    });
  });

  it('a step within its deadline is not cancelled', async () => {
    const clock = new FakeClock('2026-11-29T10:00:00Z');
    const steps: Step[] = [
      {
        name: 'quick',
        defaultEstimateMs: 1,
        deadlineMs: 30_000,
        run: async () => void clock.advance(29_000),
      },
    ];
    const result = await runSteps(await engineInput(steps, clock).input());
    expect(result.status).toBe('completed');
  });

  it('journals typed state as steps set it, and a later step (or a resumed run) reads it back', async () => {
    const clock = new FakeClock('2026-11-29T10:00:00Z');
    const SERVED = stateKey<{ release: string; servers: string[] }>('fleet.before');
    const seen: unknown[] = [];
    const steps: Step[] = [
      {
        name: 'describe-fleet',
        defaultEstimateMs: 1,
        run: async (ctx) => {
          await ctx.state.set(SERVED, { release: 'v1', servers: ['web1', 'web2'] });
        },
      },
      {
        name: 'clone',
        defaultEstimateMs: 1,
        run: async (ctx) => {
          seen.push(ctx.state.get(SERVED));
          await ctx.ports.openDatabase({ engine: 'postgres', url: 'postgres://clone/db' });
        },
      },
    ];
    const journal = new MemoryJournal();
    await journal.insertRun({
      runId: 'r',
      plan: 'orders',
      status: 'running',
      startedAt: '2026-11-29T10:00:00.000Z',
      finishedAt: null,
      host: 'h',
      pid: 1,
      emergencyReason: null,
      windowStart: null,
      windowEnd: null,
      resumedFrom: null,
      state: null,
      error: null,
      note: null,
      notifications: null,
    });
    const h = engineInput(steps, clock, journal);
    expect((await runSteps(await h.input())).status).toBe('completed');
    expect(seen).toEqual([{ release: 'v1', servers: ['web1', 'web2'] }]);
    expect(h.opened).toEqual(['postgres://clone/db']);
    // What a resumed run gets back from the journal.
    const [run] = await journal.runs('orders', 1);
    expect(run!.state).toEqual({ 'fleet.before': { release: 'v1', servers: ['web1', 'web2'] } });
    const resumed = createRunState(run!.state, async () => undefined);
    expect(resumed.get(SERVED)).toEqual({ release: 'v1', servers: ['web1', 'web2'] });
  });
});
