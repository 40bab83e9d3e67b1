/**
 * The shared fake of the Journal port: runs and steps in memory, redacted and copied on the
 * way in and out like the database journal, so tests see what a real journal would keep.
 */
import { redactDeep } from '../../src/support/redact.js';
import type {
  Journal,
  RunPatch,
  RunRecord,
  ScheduleRecord,
  StepRecord,
} from '../../src/core/journal/journal.js';
import { UNFINISHED } from '../../src/core/status.js';

interface JournalData {
  runs: RunRecord[];
  steps: StepRecord[];
}

export class MemoryJournal implements Journal {
  readonly kind = 'memory' as const;
  private readonly data: JournalData = { runs: [], steps: [] };
  /** Whether `ensure` (or a write) created it; reading alone never does. */
  private created = false;
  /** Make the next write fail (a journal fault), once. */
  failNextWrite: Error | null = null;

  private async load(): Promise<JournalData> {
    return this.data;
  }

  private async save(): Promise<void> {
    this.created = true;
    const fault = this.failNextWrite;
    this.failNextWrite = null;
    if (fault) throw fault;
  }

  async exists(): Promise<boolean> {
    return this.created;
  }

  async ensure(): Promise<void> {
    await this.load();
    await this.save();
  }

  async insertRun(run: RunRecord): Promise<void> {
    await this.save();
    (await this.load()).runs.push(structuredClone(redactDeep(run)));
  }

  async updateRun(runId: string, patch: RunPatch): Promise<void> {
    await this.save();
    const run = (await this.load()).runs.find((r) => r.runId === runId);
    if (run) Object.assign(run, structuredClone(redactDeep(patch)));
  }

  async putStep(step: StepRecord): Promise<void> {
    await this.save();
    const data = await this.load();
    const copy = structuredClone(redactDeep(step));
    const i = data.steps.findIndex((s) => s.runId === step.runId && s.seq === step.seq);
    if (i >= 0) data.steps[i] = copy;
    else data.steps.push(copy);
  }

  private newestFirst(runs: RunRecord[]): RunRecord[] {
    // As the database journal: by the real time a run was journaled (MAINT_NOW pins startedAt).
    const key = (r: RunRecord) => r.recordedAt ?? r.startedAt;
    return [...runs].sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
  }

  async unfinished(plan: string): Promise<RunRecord[]> {
    const data = await this.load();
    return structuredClone(
      this.newestFirst(data.runs.filter((r) => r.plan === plan && UNFINISHED.includes(r.status))),
    );
  }

  async runs(plan: string, limit: number): Promise<RunRecord[]> {
    const data = await this.load();
    return structuredClone(this.newestFirst(data.runs.filter((r) => r.plan === plan)).slice(0, limit));
  }

  async steps(runId: string): Promise<StepRecord[]> {
    const data = await this.load();
    return structuredClone(data.steps.filter((s) => s.runId === runId).sort((a, b) => a.seq - b.seq));
  }

  async history(plan: string, limit: number): Promise<StepRecord[]> {
    const data = await this.load();
    const ids = new Set(data.runs.filter((r) => r.plan === plan).map((r) => r.runId));
    return structuredClone(
      data.steps
        .filter((s) => ids.has(s.runId) && (s.durationMs !== null || s.rollbackMs !== null))
        .sort((a, b) => ((a.finishedAt ?? '') < (b.finishedAt ?? '') ? 1 : -1))
        .slice(0, limit),
    );
  }

  async completedSteps(plan: string, namePrefix: string): Promise<StepRecord[]> {
    const data = await this.load();
    const ids = new Set(
      data.runs.filter((r) => r.plan === plan && r.status === 'completed').map((r) => r.runId),
    );
    return structuredClone(
      data.steps
        .filter((s) => ids.has(s.runId) && s.status === 'done' && s.name.startsWith(namePrefix))
        .sort((a, b) => ((a.finishedAt ?? '') < (b.finishedAt ?? '') ? 1 : -1)),
    );
  }

  /** The agent's schedule records, by id. */
  readonly scheduleRecords = new Map<string, ScheduleRecord>();

  async scheduled(plan: string, windowStart: string): Promise<ScheduleRecord | null> {
    const r = [...this.scheduleRecords.values()].find(
      (x) => x.plan === plan && x.windowStart === windowStart,
    );
    return r ? structuredClone(r) : null;
  }

  async schedules(plan: string, limit: number): Promise<ScheduleRecord[]> {
    return [...this.scheduleRecords.values()]
      .filter((x) => x.plan === plan)
      .sort((a, b) => b.windowStart.localeCompare(a.windowStart))
      .slice(0, limit)
      .map((x) => structuredClone(x));
  }

  async putSchedule(record: ScheduleRecord): Promise<void> {
    await this.save();
    this.scheduleRecords.set(record.id, structuredClone(redactDeep(record)));
  }
}
