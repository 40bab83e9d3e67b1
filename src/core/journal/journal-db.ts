/** The journal in the plan's database (tables created on first use). */
import type { Database } from '../../db/database.js';
import type { Journal, RunPatch, RunRecord, ScheduleRecord, StepRecord } from './journal.js';
import { UNFINISHED } from '../status.js';
import {
  addRunColumnSql,
  addStateColumnSql,
  ADDED_RUN_COLUMNS,
  createJournalSql,
  journalColumnsSql,
  insertRunSql,
  RUNS_TABLE,
  SCHEDULE_TABLE,
  createScheduleSql,
  scheduleFromRow,
  selectSchedulesSql,
  upsertScheduleSql,
  runFromRow,
  selectCompletedStepsSql,
  selectHistorySql,
  selectRunsSql,
  selectStepsSql,
  STEPS_TABLE,
  stepFromRow,
  updateRunSql,
  upsertStepSql,
} from './journal-sql.js';
import { redactDeep } from '../../support/redact.js';

export class DatabaseJournal implements Journal {
  readonly kind = 'database' as const;
  private known = false;
  private upgraded = false;
  private scheduleKnown = false;

  constructor(private readonly db: Database) {}

  async exists(): Promise<boolean> {
    if (this.known) return true;
    const tables = await this.db.listTables();
    this.known = tables.includes(RUNS_TABLE) && tables.includes(STEPS_TABLE);
    return this.known;
  }

  async ensure(): Promise<void> {
    if (await this.exists()) {
      await this.upgrade();
      return;
    }
    for (const sql of createJournalSql(this.db.dialect)) await this.db.query(sql);
    this.known = true;
    this.upgraded = true;
  }

  private columnsRead: Promise<string[]> | undefined;

  private columns(): Promise<string[]> {
    const s = journalColumnsSql(this.db.dialect);
    this.columnsRead ??= this.db
      .query<{ name: string }>(s.sql, s.params)
      .then((rows) => rows.map((r) => String(r.name).toLowerCase()));
    return this.columnsRead;
  }

  /** Reading never upgrades: a journal an older maint created is ordered by what it has. */
  private async hasRecordedAt(): Promise<boolean> {
    return this.upgraded || (await this.columns()).includes('recorded_at');
  }

  /** Add what later versions of the journal need to tables an older maint created. */
  private async upgrade(): Promise<void> {
    if (this.upgraded) return;
    const columns = await this.columns();
    if (!columns.includes('state')) await this.db.query(addStateColumnSql(this.db.dialect));
    for (const [column, type] of ADDED_RUN_COLUMNS)
      if (!columns.includes(column)) await this.db.query(addRunColumnSql(this.db.dialect, column, type));
    this.upgraded = true;
  }

  async insertRun(run: RunRecord): Promise<void> {
    const s = insertRunSql(this.db.dialect, redactDeep(run));
    await this.db.query(s.sql, s.params);
  }

  async updateRun(runId: string, patch: RunPatch): Promise<void> {
    const s = updateRunSql(this.db.dialect, runId, redactDeep(patch));
    if (s) await this.db.query(s.sql, s.params);
  }

  async putStep(step: StepRecord): Promise<void> {
    const s = upsertStepSql(this.db.dialect, redactDeep(step));
    await this.db.query(s.sql, s.params);
  }

  async unfinished(plan: string): Promise<RunRecord[]> {
    if (!(await this.exists())) return [];
    const s = selectRunsSql(this.db.dialect, plan, {
      statuses: UNFINISHED,
      limit: 20,
      recordedAt: await this.hasRecordedAt(),
    });
    return (await this.db.query(s.sql, s.params)).map(runFromRow);
  }

  async runs(plan: string, limit: number): Promise<RunRecord[]> {
    if (!(await this.exists())) return [];
    const s = selectRunsSql(this.db.dialect, plan, { limit, recordedAt: await this.hasRecordedAt() });
    return (await this.db.query(s.sql, s.params)).map(runFromRow);
  }

  async steps(runId: string): Promise<StepRecord[]> {
    if (!(await this.exists())) return [];
    const s = selectStepsSql(this.db.dialect, runId);
    return (await this.db.query(s.sql, s.params)).map(stepFromRow);
  }

  async history(plan: string, limit: number): Promise<StepRecord[]> {
    if (!(await this.exists())) return [];
    const s = selectHistorySql(this.db.dialect, plan, limit);
    return (await this.db.query(s.sql, s.params)).map(stepFromRow);
  }

  async completedSteps(plan: string, namePrefix: string): Promise<StepRecord[]> {
    if (!(await this.exists())) return [];
    const s = selectCompletedStepsSql(this.db.dialect, plan, namePrefix);
    return (await this.db.query(s.sql, s.params)).map(stepFromRow);
  }

  async scheduled(plan: string, windowStart: string): Promise<ScheduleRecord | null> {
    if (!(await this.scheduleExists())) return null;
    const s = selectSchedulesSql(this.db.dialect, plan, { windowStart, limit: 1 });
    const rows = await this.db.query(s.sql, s.params);
    return rows[0] ? scheduleFromRow(rows[0]) : null;
  }

  async schedules(plan: string, limit: number): Promise<ScheduleRecord[]> {
    if (!(await this.scheduleExists())) return [];
    const s = selectSchedulesSql(this.db.dialect, plan, { limit });
    return (await this.db.query(s.sql, s.params)).map(scheduleFromRow);
  }

  async putSchedule(record: ScheduleRecord): Promise<void> {
    if (!this.scheduleKnown) {
      await this.db.query(createScheduleSql(this.db.dialect));
      this.scheduleKnown = true;
    }
    const s = upsertScheduleSql(this.db.dialect, redactDeep(record));
    await this.db.query(s.sql, s.params);
  }

  private async scheduleExists(): Promise<boolean> {
    if (!this.scheduleKnown) this.scheduleKnown = (await this.db.listTables()).includes(SCHEDULE_TABLE);
    return this.scheduleKnown;
  }
}
