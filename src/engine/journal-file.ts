/**
 * The journal as a JSON file, for plans without a database (and, with no file, in memory for
 * tests). Writes replace the file atomically so a crash never leaves half a journal.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { redactDeep } from '../output/redact.js';
import type { Journal, RunPatch, RunRecord, StepRecord } from './journal.js';
import { UNFINISHED } from './journal.js';

interface JournalFile {
  version: 1;
  runs: RunRecord[];
  steps: StepRecord[];
}

export class FileJournal implements Journal {
  readonly kind = 'file' as const;
  private data: JournalFile | null = null;
  /** In memory: whether `ensure` (or a write) created it; reading alone never does. */
  private created = false;

  /** @param file JSON file, or null to keep the journal in memory only. */
  constructor(private readonly file: string | null) {}

  private async load(): Promise<JournalFile> {
    if (this.data) return this.data;
    if (this.file) {
      try {
        this.data = JSON.parse(await readFile(this.file, 'utf8')) as JournalFile;
        return this.data;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    this.data = { version: 1, runs: [], steps: [] };
    return this.data;
  }

  private async save(): Promise<void> {
    this.created = true;
    if (!this.file || !this.data) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.data, null, 2) + '\n');
    await rename(tmp, this.file);
  }

  async exists(): Promise<boolean> {
    if (this.created) return true;
    if (!this.file) return false;
    try {
      await readFile(this.file);
      return true;
    } catch {
      return false;
    }
  }

  async ensure(): Promise<void> {
    await this.load();
    await this.save();
  }

  async insertRun(run: RunRecord): Promise<void> {
    (await this.load()).runs.push(structuredClone(redactDeep(run)));
    await this.save();
  }

  async updateRun(runId: string, patch: RunPatch): Promise<void> {
    const run = (await this.load()).runs.find((r) => r.runId === runId);
    if (run) Object.assign(run, structuredClone(redactDeep(patch)));
    await this.save();
  }

  async putStep(step: StepRecord): Promise<void> {
    const data = await this.load();
    const copy = structuredClone(redactDeep(step));
    const i = data.steps.findIndex((s) => s.runId === step.runId && s.seq === step.seq);
    if (i >= 0) data.steps[i] = copy;
    else data.steps.push(copy);
    await this.save();
  }

  private newestFirst(runs: RunRecord[]): RunRecord[] {
    return [...runs].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
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
}
