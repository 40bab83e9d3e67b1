/**
 * SQL of the database journal, per dialect. Pure functions returning text and parameters, so
 * unit tests assert the exact SQL. Times are stored as ISO-8601 UTC text: it sorts, and it reads
 * back the same from every driver and server time zone.
 */
import type { Dialect } from '../../db/database.js';
import type { RunPatch, RunRecord, ScheduleRecord, StepRecord } from './journal.js';

export const RUNS_TABLE = 'maint_runs';
export const STEPS_TABLE = 'maint_run_steps';
export const SCHEDULE_TABLE = 'maint_schedule';

export interface SqlStatement {
  sql: string;
  params: unknown[];
}

export function quoteIdent(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? '`' + name.replace(/`/g, '``') + '`' : '"' + name.replace(/"/g, '""') + '"';
}

function placeholders(dialect: Dialect, count: number, from = 1): string[] {
  return Array.from({ length: count }, (_, i) => (dialect === 'mysql' ? '?' : `$${from + i}`));
}

const RUN_COLUMNS: Array<[keyof RunRecord, string]> = [
  ['runId', 'run_id'],
  ['plan', 'plan'],
  ['status', 'status'],
  ['startedAt', 'started_at'],
  ['finishedAt', 'finished_at'],
  ['host', 'host'],
  ['pid', 'pid'],
  ['emergencyReason', 'emergency_reason'],
  ['windowStart', 'window_start'],
  ['windowEnd', 'window_end'],
  ['resumedFrom', 'resumed_from'],
  ['state', 'state'],
  ['error', 'error'],
  ['note', 'note'],
  ['notifications', 'notifications'],
  ['recordedAt', 'recorded_at'],
  ['rehearsal', 'rehearsal'],
];
const JSON_RUN_FIELDS = new Set<keyof RunRecord>(['state', 'error', 'notifications']);

const STEP_COLUMNS: Array<[keyof StepRecord, string]> = [
  ['runId', 'run_id'],
  ['seq', 'seq'],
  ['name', 'name'],
  ['status', 'status'],
  ['startedAt', 'started_at'],
  ['finishedAt', 'finished_at'],
  ['durationMs', 'duration_ms'],
  ['rollbackMs', 'rollback_ms'],
  ['detail', 'detail'],
];

/** Statements creating the journal when missing (idempotent). */
export function createJournalSql(dialect: Dialect): string[] {
  const q = (n: string) => quoteIdent(dialect, n);
  const text = dialect === 'mysql' ? 'longtext' : 'text';
  const runs = `create table if not exists ${q(RUNS_TABLE)} (
  ${q('run_id')} varchar(64) not null primary key,
  ${q('plan')} varchar(100) not null,
  ${q('status')} varchar(20) not null,
  ${q('started_at')} varchar(32) not null,
  ${q('finished_at')} varchar(32),
  ${q('host')} varchar(255) not null,
  ${q('pid')} integer not null,
  ${q('emergency_reason')} ${text},
  ${q('window_start')} varchar(32),
  ${q('window_end')} varchar(32),
  ${q('resumed_from')} varchar(64),
  ${q('state')} ${text},
  ${q('error')} ${text},
  ${q('note')} ${text},
  ${q('notifications')} ${text},
  ${q('recorded_at')} varchar(32),
  ${q('rehearsal')} integer${dialect === 'mysql' ? `,\n  key ${q('maint_runs_plan_started')} (${q('plan')}, ${q('started_at')})` : ''}
)`;
  const steps = `create table if not exists ${q(STEPS_TABLE)} (
  ${q('run_id')} varchar(64) not null,
  ${q('seq')} integer not null,
  ${q('name')} varchar(100) not null,
  ${q('status')} varchar(20) not null,
  ${q('started_at')} varchar(32),
  ${q('finished_at')} varchar(32),
  ${q('duration_ms')} integer,
  ${q('rollback_ms')} integer,
  ${q('detail')} ${text},
  primary key (${q('run_id')}, ${q('seq')})
)`;
  const out = [runs, steps];
  if (dialect === 'postgres') {
    out.push(
      `create index if not exists ${q('maint_runs_plan_started')} on ${q(RUNS_TABLE)} (${q('plan')}, ${q('started_at')})`,
    );
  }
  return out;
}

function toColumnValue(field: string, value: unknown, jsonFields: Set<string>): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return jsonFields.has(field) ? JSON.stringify(value) : value;
}

export function insertRunSql(dialect: Dialect, run: RunRecord): SqlStatement {
  const cols = RUN_COLUMNS.map(([, c]) => quoteIdent(dialect, c)).join(', ');
  const params = RUN_COLUMNS.map(([f]) => toColumnValue(f, run[f], JSON_RUN_FIELDS as Set<string>));
  return {
    sql: `insert into ${quoteIdent(dialect, RUNS_TABLE)} (${cols}) values (${placeholders(dialect, params.length).join(', ')})`,
    params,
  };
}

export function updateRunSql(dialect: Dialect, runId: string, patch: RunPatch): SqlStatement | null {
  const fields = RUN_COLUMNS.filter(([f]) => f in patch && f !== 'runId');
  if (fields.length === 0) return null;
  const ph = placeholders(dialect, fields.length + 1);
  const sets = fields.map(([, c], i) => `${quoteIdent(dialect, c)} = ${ph[i]}`).join(', ');
  const params = fields.map(([f]) =>
    toColumnValue(f, (patch as Record<string, unknown>)[f], JSON_RUN_FIELDS as Set<string>),
  );
  return {
    sql: `update ${quoteIdent(dialect, RUNS_TABLE)} set ${sets} where ${quoteIdent(dialect, 'run_id')} = ${ph[fields.length]}`,
    params: [...params, runId],
  };
}

export function upsertStepSql(dialect: Dialect, step: StepRecord): SqlStatement {
  const q = (n: string) => quoteIdent(dialect, n);
  const cols = STEP_COLUMNS.map(([, c]) => q(c));
  const params = STEP_COLUMNS.map(([f]) => toColumnValue(f, step[f], new Set(['detail'])));
  const updatable = STEP_COLUMNS.filter(([f]) => f !== 'runId' && f !== 'seq').map(([, c]) => c);
  const conflict =
    dialect === 'mysql'
      ? `on duplicate key update ${updatable.map((c) => `${q(c)} = values(${q(c)})`).join(', ')}`
      : `on conflict (${q('run_id')}, ${q('seq')}) do update set ${updatable.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`;
  return {
    sql: `insert into ${q(STEPS_TABLE)} (${cols.join(', ')}) values (${placeholders(dialect, params.length).join(', ')}) ${conflict}`,
    params,
  };
}

export function selectRunsSql(
  dialect: Dialect,
  plan: string,
  options: { statuses?: readonly string[]; limit: number; recordedAt?: boolean },
): SqlStatement {
  const q = (n: string) => quoteIdent(dialect, n);
  const statuses = options.statuses ?? [];
  const ph = placeholders(dialect, 1 + statuses.length);
  const where = [`${q('plan')} = ${ph[0]}`];
  if (statuses.length > 0) where.push(`${q('status')} in (${ph.slice(1).join(', ')})`);
  const limit = Math.max(1, Math.floor(options.limit));
  // Real time first (a MAINT_NOW rehearsal's startedAt is its pinned instant); a journal an
  // older maint created, not yet upgraded by a run, has only started_at.
  const order =
    options.recordedAt === false ? q('started_at') : `coalesce(${q('recorded_at')}, ${q('started_at')})`;
  return {
    sql: `select * from ${q(RUNS_TABLE)} where ${where.join(' and ')} order by ${order} desc, ${q('run_id')} desc limit ${limit}`,
    params: [plan, ...statuses],
  };
}

export function selectStepsSql(dialect: Dialect, runId: string): SqlStatement {
  const q = (n: string) => quoteIdent(dialect, n);
  return {
    sql: `select * from ${q(STEPS_TABLE)} where ${q('run_id')} = ${placeholders(dialect, 1)[0]} order by ${q('seq')}`,
    params: [runId],
  };
}

export function selectHistorySql(dialect: Dialect, plan: string, limit: number): SqlStatement {
  const q = (n: string) => quoteIdent(dialect, n);
  const ph = placeholders(dialect, 1);
  return {
    sql:
      `select s.* from ${q(STEPS_TABLE)} s join ${q(RUNS_TABLE)} r on r.${q('run_id')} = s.${q('run_id')} ` +
      `where r.${q('plan')} = ${ph[0]} and (s.${q('duration_ms')} is not null or s.${q('rollback_ms')} is not null) ` +
      `order by s.${q('finished_at')} desc limit ${Math.max(1, Math.floor(limit))}`,
    params: [plan],
  };
}

/** Done steps named `namePrefix…` of the completed runs of `plan` (operations already run). */
export function selectCompletedStepsSql(dialect: Dialect, plan: string, namePrefix: string): SqlStatement {
  const q = (n: string) => quoteIdent(dialect, n);
  const ph = placeholders(dialect, 4);
  return {
    sql:
      `select s.* from ${q(STEPS_TABLE)} s join ${q(RUNS_TABLE)} r on r.${q('run_id')} = s.${q('run_id')} ` +
      `where r.${q('plan')} = ${ph[0]} and r.${q('status')} = ${ph[1]} and s.${q('status')} = ${ph[2]} ` +
      `and left(s.${q('name')}, ${namePrefix.length}) = ${ph[3]} ` +
      `order by s.${q('finished_at')} desc`,
    params: [plan, 'completed', 'done', namePrefix],
  };
}

function parseJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function runFromRow(row: Record<string, unknown>): RunRecord {
  return {
    runId: String(row.run_id),
    plan: String(row.plan),
    status: String(row.status) as RunRecord['status'],
    startedAt: String(row.started_at),
    finishedAt: str(row.finished_at),
    host: String(row.host),
    pid: Number(row.pid),
    emergencyReason: str(row.emergency_reason),
    windowStart: str(row.window_start),
    windowEnd: str(row.window_end),
    resumedFrom: str(row.resumed_from),
    state: stateFromRow(row),
    error: parseJson(row.error) as RunRecord['error'],
    note: str(row.note),
    notifications: parseJson(row.notifications) as RunRecord['notifications'],
    recordedAt: str(row.recorded_at),
    rehearsal: Number(row.rehearsal ?? 0) === 1,
  };
}

/** Journals written before run state existed kept only the baseline, in its own column. */
function stateFromRow(row: Record<string, unknown>): RunRecord['state'] {
  const state = parseJson(row.state) as RunRecord['state'];
  if (state) return state;
  const baseline = parseJson(row.baseline);
  return baseline ? { baseline } : null;
}

/** Journals created before run state existed lack the `state` column; it is added on first write. */
export function journalColumnsSql(dialect: Dialect): SqlStatement {
  const schema = dialect === 'mysql' ? 'database()' : 'current_schema()';
  return {
    sql: `select column_name as ${quoteIdent(dialect, 'name')} from information_schema.columns where table_schema = ${schema} and table_name = ${placeholders(dialect, 1)[0]}`,
    params: [RUNS_TABLE],
  };
}

export function addStateColumnSql(dialect: Dialect): string {
  const text = dialect === 'mysql' ? 'longtext' : 'text';
  return `alter table ${quoteIdent(dialect, RUNS_TABLE)} add column ${quoteIdent(dialect, 'state')} ${text}`;
}

/** Columns later versions added to `maint_runs`, and their types, for journals an older maint created. */
export const ADDED_RUN_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['recorded_at', 'varchar(32)'],
  ['rehearsal', 'integer'],
];

export function addRunColumnSql(dialect: Dialect, column: string, type: string): string {
  return `alter table ${quoteIdent(dialect, RUNS_TABLE)} add column ${quoteIdent(dialect, column)} ${type}`;
}

export function stepFromRow(row: Record<string, unknown>): StepRecord {
  return {
    runId: String(row.run_id),
    seq: Number(row.seq),
    name: String(row.name),
    status: String(row.status) as StepRecord['status'],
    startedAt: str(row.started_at),
    finishedAt: str(row.finished_at),
    durationMs: num(row.duration_ms),
    rollbackMs: num(row.rollback_ms),
    detail: parseJson(row.detail) as StepRecord['detail'],
  };
}

const SCHEDULE_COLUMNS: Array<[keyof ScheduleRecord, string]> = [
  ['id', 'id'],
  ['plan', 'plan'],
  ['windowStart', 'window_start'],
  ['windowEnd', 'window_end'],
  ['status', 'status'],
  ['eventId', 'event_id'],
  ['runId', 'run_id'],
  ['agent', 'agent'],
  ['createdAt', 'created_at'],
  ['updatedAt', 'updated_at'],
  ['note', 'note'],
];

/** The agent's scheduled operations (created on the first write, idempotent). */
export function createScheduleSql(dialect: Dialect): string {
  const q = (n: string) => quoteIdent(dialect, n);
  const text = dialect === 'mysql' ? 'longtext' : 'text';
  return `create table if not exists ${q(SCHEDULE_TABLE)} (
  ${q('id')} varchar(160) not null primary key,
  ${q('plan')} varchar(100) not null,
  ${q('window_start')} varchar(32) not null,
  ${q('window_end')} varchar(32) not null,
  ${q('status')} varchar(20) not null,
  ${q('event_id')} varchar(64),
  ${q('run_id')} varchar(64),
  ${q('agent')} varchar(255) not null,
  ${q('created_at')} varchar(32) not null,
  ${q('updated_at')} varchar(32) not null,
  ${q('note')} ${text}
)`;
}

export function upsertScheduleSql(dialect: Dialect, record: ScheduleRecord): SqlStatement {
  const q = (n: string) => quoteIdent(dialect, n);
  const cols = SCHEDULE_COLUMNS.map(([, c]) => q(c));
  const params = SCHEDULE_COLUMNS.map(([f]) => record[f] ?? null);
  const updatable = SCHEDULE_COLUMNS.filter(([f]) => f !== 'id' && f !== 'createdAt').map(([, c]) => c);
  const conflict =
    dialect === 'mysql'
      ? `on duplicate key update ${updatable.map((c) => `${q(c)} = values(${q(c)})`).join(', ')}`
      : `on conflict (${q('id')}) do update set ${updatable.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`;
  return {
    sql: `insert into ${q(SCHEDULE_TABLE)} (${cols.join(', ')}) values (${placeholders(dialect, params.length).join(', ')}) ${conflict}`,
    params,
  };
}

export function selectSchedulesSql(
  dialect: Dialect,
  plan: string,
  options: { windowStart?: string; limit: number },
): SqlStatement {
  const q = (n: string) => quoteIdent(dialect, n);
  const ph = placeholders(dialect, options.windowStart ? 2 : 1);
  const where = [`${q('plan')} = ${ph[0]}`];
  if (options.windowStart) where.push(`${q('window_start')} = ${ph[1]}`);
  return {
    sql: `select * from ${q(SCHEDULE_TABLE)} where ${where.join(' and ')} order by ${q('window_start')} desc limit ${Math.max(1, Math.floor(options.limit))}`,
    params: options.windowStart ? [plan, options.windowStart] : [plan],
  };
}

export function scheduleFromRow(row: Record<string, unknown>): ScheduleRecord {
  return {
    id: String(row.id),
    plan: String(row.plan),
    windowStart: String(row.window_start),
    windowEnd: String(row.window_end),
    status: String(row.status) as ScheduleRecord['status'],
    eventId: str(row.event_id),
    runId: str(row.run_id),
    agent: String(row.agent),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
    note: str(row.note),
  };
}
