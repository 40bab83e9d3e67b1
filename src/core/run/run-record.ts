/** The run's journal row: its id, its first record, and how it is closed. */
import { randomBytes } from 'node:crypto';
import type { MaintError } from '../../errors.js';
import { redact } from '../../support/redact.js';
import type { WindowInstance } from '../../window/window.js';
import type { Clock } from '../clock.js';
import type { RunPatch, RunRecord } from '../journal/journal.js';
import type { HostIdentity } from '../ports.js';
import type { JournalStatus } from '../status.js';
import type { DeliveryOutcome } from '../../notify/channel.js';

export function newRunId(clock: Clock): string {
  const stamp = clock.now().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `run_${stamp}_${randomBytes(3).toString('hex')}`;
}

export interface NewRunInput {
  runId: string;
  plan: string;
  clock: Clock;
  host: HostIdentity;
  emergencyReason: string | null;
  span: WindowInstance;
  /** The interrupted run this one resumes, with the state it journaled. */
  resumed: { runId: string; state: Record<string, unknown> | null; reason: string } | null;
}

export function newRunRecord(input: NewRunInput): RunRecord {
  return {
    runId: input.runId,
    plan: input.plan,
    status: 'running',
    startedAt: input.clock.now().toISOString(),
    finishedAt: null,
    host: input.host.host,
    pid: input.host.pid,
    emergencyReason: input.emergencyReason,
    recordedAt: (input.clock.realNow?.() ?? input.clock.now()).toISOString(),
    rehearsal: input.clock.pinned === true,
    windowStart: input.span.start.toISOString(),
    windowEnd: input.span.end.toISOString(),
    resumedFrom: input.resumed?.runId ?? null,
    state: input.resumed?.state ?? null,
    error: null,
    note: input.resumed?.reason ?? null,
    notifications: null,
  };
}

/** The journal patch that closes a run. */
export function closingPatch(
  status: JournalStatus,
  clock: Clock,
  error: MaintError | null,
  notes: Array<string | null>,
  notifications: DeliveryOutcome[] | null,
): RunPatch {
  const note = notes.filter(Boolean).join('; ') || null;
  return {
    status,
    finishedAt: clock.now().toISOString(),
    error: error ? { code: error.code, message: redact(error.message) } : null,
    note: note ? redact(note) : null,
    ...(notifications ? { notifications } : {}),
  };
}
