import { describe, expect, it } from 'vitest';
import { evaluateCheck, scalarText } from '../../src/core/engine/checks.js';
import { estimateSteps } from '../../src/core/engine/estimates.js';
import { checkTime } from '../../src/core/engine/guard.js';
import {
  addRunColumnSql,
  addStateColumnSql,
  ADDED_RUN_COLUMNS,
  journalColumnsSql,
  runFromRow,
  createJournalSql,
  insertRunSql,
  selectRunsSql,
  updateRunSql,
  upsertStepSql,
} from '../../src/core/journal/journal-sql.js';
import type { StepRecord } from '../../src/core/journal/journal.js';
import type { Step } from '../../src/core/engine/step.js';
import { WindowSchema } from '../../src/plan/schema.js';
import { MemoryJournal } from '../helpers/fakes.js';

const spec = WindowSchema.parse({ timezone: 'Europe/Paris', days: ['sun'], start: '21:00', duration: '2h' });
const win = { start: new Date('2026-11-29T20:00:00Z'), end: new Date('2026-11-29T22:00:00Z') };

describe('window guard', () => {
  it('allows when the time left covers the need', () => {
    expect(checkTime(spec, win, new Date('2026-11-29T21:00:00Z'), 30 * 60_000, 'x')).toEqual({
      ok: true,
      remainingMs: 3_600_000,
    });
  });
  it('refuses 30 minutes of work with 10 minutes left, naming the next window', () => {
    const v = checkTime(spec, win, new Date('2026-11-29T21:50:00Z'), 30 * 60_000, 'the run');
    expect(v).toMatchObject({
      ok: false,
      code: 'WINDOW_TOO_SHORT',
      remainingMs: 600_000,
      neededMs: 1_800_000,
    });
    expect(!v.ok && v.message).toBe(
      '10m left in the window, but the run needs about 30m; next window: 2026-12-06T20:00:00.000Z (Sun 6 Dec 2026 21:00 CET)',
    );
  });
  it('calls an ended window closed', () => {
    expect(checkTime(spec, win, new Date('2026-11-29T22:00:00Z'), 1, 'x')).toMatchObject({
      ok: false,
      code: 'WINDOW_CLOSED',
    });
  });
  it('has no opinion for an emergency run (no window)', () => {
    expect(checkTime(spec, null, new Date('2026-11-25T12:00:00Z'), 10 ** 9, 'x')).toEqual({
      ok: true,
      remainingMs: null,
    });
  });
});

const step = (name: string, ms: number, rollback = true): Step => ({
  name,
  defaultEstimateMs: ms,
  run: async () => undefined,
  ...(rollback ? { rollback: async () => undefined } : {}),
});
const rec = (
  name: string,
  status: StepRecord['status'],
  durationMs: number | null,
  rollbackMs: number | null = null,
): StepRecord => ({
  runId: 'r',
  seq: 0,
  name,
  status,
  startedAt: null,
  finishedAt: null,
  durationMs,
  rollbackMs,
  detail: null,
});

describe('estimates', () => {
  const steps = [step('lock', 1000, true), step('migrate', 3000), step('analyze', 6000, false)];
  it('spreads the plan estimate in proportion to the defaults', () => {
    expect(estimateSteps(steps, { planEstimateMs: 100_000 }).map((e) => [e.runMs, e.source])).toEqual([
      [10_000, 'plan'],
      [30_000, 'plan'],
      [60_000, 'plan'],
    ]);
  });
  it('learns from the median of past durations per step name, rollbacks too', () => {
    const history = [
      rec('migrate', 'done', 100),
      rec('migrate', 'done', 300),
      rec('migrate', 'done', 200),
      rec('migrate', 'rolled_back', 50, 40),
      rec('lock', 'failed', 99_999),
    ];
    const [lock, migrate, analyze] = estimateSteps(steps, { history });
    expect(lock).toEqual({ runMs: 1000, rollbackMs: 1000, source: 'default' });
    expect(migrate).toEqual({ runMs: 200, rollbackMs: 40, source: 'journal' });
    expect(analyze).toEqual({ runMs: 6000, rollbackMs: 0, source: 'default' });
  });
});

describe('integrity checks', () => {
  it.each([
    ['unchanged', '3', '3', true],
    ['unchanged', '2', '3', false],
    [0, '0', null, true],
    [0, '1', null, false],
    ['>= 1', '5', null, true],
    ['>= 1', '0', null, false],
    ['< 10', '9.5', null, true],
    ['!= 0', '0', null, false],
    ['== 2', 'abc', null, false],
    ['paid', 'paid', null, true],
    ['paid', 'unpaid', null, false],
  ] as const)('expect %j with %j (before %j) → %j', (expect_, actual, before, ok) => {
    expect(evaluateCheck(expect_, actual, before).ok).toBe(ok);
  });
  it('reads the first column of the first row as text, whatever the driver type', () => {
    expect(scalarText([{ count: 3n as unknown }])).toBe('3');
    expect(scalarText([{ count: '3' }])).toBe('3');
    expect(scalarText([{ d: new Date('2026-01-01T00:00:00Z') }])).toBe('2026-01-01T00:00:00.000Z');
    expect(scalarText([])).toBeNull();
  });
});

describe('journal SQL', () => {
  const run = {
    runId: 'run_1',
    plan: 'p',
    status: 'running' as const,
    startedAt: 's',
    finishedAt: null,
    host: 'h',
    pid: 1,
    emergencyReason: 'why',
    windowStart: null,
    windowEnd: null,
    resumedFrom: null,
    state: { baseline: { appliedBefore: null, checks: {} } },
    error: null,
    note: null,
    notifications: null,
  };
  it('quotes identifiers per dialect and creates tables only if missing', () => {
    const pg = createJournalSql('postgres');
    expect(pg).toHaveLength(3);
    expect(pg[0]).toMatch(
      /^create table if not exists "maint_runs" \(\n {2}"run_id" varchar\(64\) not null primary key,/,
    );
    expect(pg[2]).toBe(
      'create index if not exists "maint_runs_plan_started" on "maint_runs" ("plan", "started_at")',
    );
    const my = createJournalSql('mysql');
    expect(my).toHaveLength(2);
    expect(my[0]).toContain('`state` longtext');
    expect(my[0]).toContain('key `maint_runs_plan_started` (`plan`, `started_at`)');
  });
  it('inserts runs with JSON columns serialised', () => {
    const s = insertRunSql('postgres', run);
    expect(s.sql).toBe(
      'insert into "maint_runs" ("run_id", "plan", "status", "started_at", "finished_at", "host", "pid", "emergency_reason", "window_start", "window_end", "resumed_from", "state", "error", "note", "notifications", "recorded_at", "rehearsal") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)',
    );
    expect(s.params[11]).toBe('{"baseline":{"appliedBefore":null,"checks":{}}}');
  });
  it('updates only the given fields', () => {
    expect(updateRunSql('mysql', 'run_1', { status: 'completed', note: 'ok' })).toEqual({
      sql: 'update `maint_runs` set `status` = ?, `note` = ? where `run_id` = ?',
      params: ['completed', 'ok', 'run_1'],
    });
    expect(updateRunSql('postgres', 'r', {})).toBeNull();
  });
  it('upserts steps by (run_id, seq)', () => {
    const step = rec('migrate', 'done', 5);
    expect(upsertStepSql('postgres', step).sql).toContain(
      'on conflict ("run_id", "seq") do update set "name" = excluded."name", "status" = excluded."status"',
    );
    expect(upsertStepSql('mysql', step).sql).toContain(
      'on duplicate key update `name` = values(`name`), `status` = values(`status`)',
    );
  });
  it('selects runs by plan and status, newest first', () => {
    expect(selectRunsSql('postgres', 'p', { statuses: ['running', 'rolling_back'], limit: 20 })).toEqual({
      sql: 'select * from "maint_runs" where "plan" = $1 and "status" in ($2, $3) order by coalesce("recorded_at", "started_at") desc, "run_id" desc limit 20',
      params: ['p', 'running', 'rolling_back'],
    });
    // A journal an older maint created, not yet upgraded by a run, orders by what it has.
    expect(selectRunsSql('mysql', 'p', { limit: 5, recordedAt: false }).sql).toBe(
      'select * from `maint_runs` where `plan` = ? order by `started_at` desc, `run_id` desc limit 5',
    );
  });
  it('adds the recorded_at and rehearsal columns to a journal an older maint created', () => {
    expect(ADDED_RUN_COLUMNS.map(([c, t]) => addRunColumnSql('postgres', c, t))).toEqual([
      'alter table "maint_runs" add column "recorded_at" varchar(32)',
      'alter table "maint_runs" add column "rehearsal" integer',
    ]);
  });
  it('adds the state column to a journal an older maint created', () => {
    expect(journalColumnsSql('postgres')).toEqual({
      sql: 'select column_name as "name" from information_schema.columns where table_schema = current_schema() and table_name = $1',
      params: ['maint_runs'],
    });
    expect(journalColumnsSql('mysql').sql).toContain('table_schema = database() and table_name = ?');
    expect(addStateColumnSql('mysql')).toBe('alter table `maint_runs` add column `state` longtext');
    expect(addStateColumnSql('postgres')).toBe('alter table "maint_runs" add column "state" text');
  });
  it('reads an older row whose baseline has its own column as state', () => {
    const row = { run_id: 'r', plan: 'p', status: 'completed', started_at: 's', host: 'h', pid: 1 };
    expect(runFromRow({ ...row, baseline: '{"appliedBefore":"001","checks":{}}' }).state).toEqual({
      baseline: { appliedBefore: '001', checks: {} },
    });
    expect(runFromRow({ ...row, state: '{"fleet":"v1"}', baseline: null }).state).toEqual({ fleet: 'v1' });
    expect(runFromRow(row).state).toBeNull();
  });
  it('the memory journal (the shared fake) redacts and finds unfinished runs', async () => {
    const j = new MemoryJournal();
    await j.insertRun({ ...run, emergencyReason: 'see postgres://u:hunter22@db/x' });
    await j.insertRun({ ...run, runId: 'run_2', status: 'completed', startedAt: 't' });
    expect((await j.unfinished('p')).map((r) => r.runId)).toEqual(['run_1']);
    expect((await j.runs('p', 5))[1]!.emergencyReason).toBe('see postgres://u:***@db/x');
  });
});
