/**
 * The Journal port: every run and every step transition, written before and after each step,
 * so a run that died can be found and resumed or rolled back. The real one lives in the plan's
 * own database (`maint_runs`, `maint_run_steps`: journal-db.ts); tests use an in-memory fake.
 */
import type { JournalStatus, StepStatus } from '../status.js';

export interface RunRecord {
  runId: string;
  plan: string;
  status: JournalStatus;
  /** ISO-8601 UTC. */
  startedAt: string;
  finishedAt: string | null;
  host: string;
  pid: number;
  /** Set for `--emergency` runs. */
  emergencyReason: string | null;
  /**
   * The real UTC time the run was journaled, even under `MAINT_NOW` (whose pinned instant is
   * `startedAt`); runs are listed newest first by it. Null in rows an older maint wrote.
   */
  recordedAt?: string | null;
  /** True when the run was rehearsed under `MAINT_NOW` (its times are the pinned clock's). */
  rehearsal?: boolean;
  windowStart: string | null;
  windowEnd: string | null;
  /** The interrupted run this one resumed or rolled back. */
  resumedFrom: string | null;
  /**
   * Typed state the run's steps journaled (`state.set`): the baseline, what the fleet served
   * before, which clone exists... A resumed or rolled-back run reads it back.
   */
  state: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  /** Why the run ended the way it did, for people. */
  note: string | null;
  /** Delivery outcomes of the run's events (redacted). */
  notifications: unknown[] | null;
}

export interface StepRecord {
  runId: string;
  /** Position in the run's step list. */
  seq: number;
  name: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  rollbackMs: number | null;
  detail: Record<string, unknown> | null;
}

/** Where a scheduled operation stands (the agent's record, one per plan and window). */
export const SCHEDULE_STATUSES = [
  'scheduled',
  'running',
  'completed',
  'failed',
  'rolled_back',
  'rescheduled',
  'cancelled',
] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

/**
 * An operation the agent scheduled into one window of a plan. `id` (`plan@windowStart`) is the
 * idempotency key: a second tick, a restarted agent or another agent finds the record and
 * announces nothing again.
 */
export interface ScheduleRecord {
  id: string;
  plan: string;
  /** ISO-8601 UTC. */
  windowStart: string;
  windowEnd: string;
  status: ScheduleStatus;
  /** The id of the announcement delivered for it (planned, or the reschedule that moved it here). */
  eventId: string | null;
  /** The run that executed it, once one did. */
  runId: string | null;
  /** Which agent wrote it last: `host:pid`. */
  agent: string;
  createdAt: string;
  updatedAt: string;
  note: string | null;
}

export type RunPatch = Partial<Omit<RunRecord, 'runId' | 'plan' | 'startedAt'>>;

export interface Journal {
  /** `database` for the real one; fakes name themselves. */
  readonly kind: string;
  /** Whether the journal has been created (reading never creates it). */
  exists(): Promise<boolean>;
  /** Create the tables or file when missing. */
  ensure(): Promise<void>;
  insertRun(run: RunRecord): Promise<void>;
  updateRun(runId: string, patch: RunPatch): Promise<void>;
  putStep(step: StepRecord): Promise<void>;
  /** Runs of `plan` still marked running or rolling back, newest first. */
  unfinished(plan: string): Promise<RunRecord[]>;
  /** The newest runs of `plan`, newest first. */
  runs(plan: string, limit: number): Promise<RunRecord[]>;
  steps(runId: string): Promise<StepRecord[]>;
  /** Finished step records of past runs of `plan` (for learned estimates), newest first. */
  history(plan: string, limit: number): Promise<StepRecord[]>;
  /** Done steps named `namePrefix…` of the runs of `plan` that ended `completed`, newest first. */
  completedSteps(plan: string, namePrefix: string): Promise<StepRecord[]>;
  /** The agent's record of `plan`'s operation in the window starting `windowStart`, if any. */
  scheduled(plan: string, windowStart: string): Promise<ScheduleRecord | null>;
  /** The newest scheduled operations of `plan`, latest window first. */
  schedules(plan: string, limit: number): Promise<ScheduleRecord[]>;
  /** Insert or replace a schedule record (creates its table on first use). */
  putSchedule(record: ScheduleRecord): Promise<void>;
}
