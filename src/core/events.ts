/**
 * Coded events: everything the core reports while it works goes through one sink as a
 * `CoreEvent` with a stable code, a level, the run id and typed data. Renderers (the live step
 * list, `--json`'s log lines), the journal, the channels and the agent's status subscribe; the
 * core never prints. The registry below is the one list of codes (docs/events.md mirrors it),
 * on the model of the AWS CDK CLI's message registry.
 */
import type { LockHolder } from '../db/database.js';
import type { BatchEvent } from '../fleet/fleet.js';
import type { MigrationProgress } from '../migrations/migrator.js';
import type { EventType, MaintenanceEvent } from './maintenance-event.js';
import type { StepRecord, RunPatch, RunRecord, ScheduleRecord } from './journal/journal.js';
import type { RunOutcome } from './status.js';
import type { ErrorJson } from './result.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** The typed data of each event code. */
export interface EventData {
  /** A run's record was written: the run has begun. */
  'run.started': { run: RunRecord };
  /** A run's journal row changed (rolling back, state saved, finished). */
  'run.updated': { patch: RunPatch };
  /** The run is over; `status` is the result's. */
  'run.finished': { status: RunOutcome; error: ErrorJson | null };
  /** An interrupted run was found under the lock and is being resumed or rolled back. */
  'run.recovering': { interruptedRunId: string; action: 'resumed' | 'rolled_back'; reason: string };
  /** This machine's clock and the database server's differ by more than 5 s. */
  'run.clock_skew': { skewMs: number };
  /** Another process holds the lock (it is named). */
  'lock.held': { holder: LockHolder | null };
  'step.running': { step: StepRecord; estimateMs: number };
  'step.done': { step: StepRecord };
  'step.failed': { step: StepRecord };
  'step.cancelled': { step: StepRecord };
  'step.rolling_back': { step: StepRecord };
  'step.rolled_back': { step: StepRecord };
  'step.rollback_failed': { step: StepRecord };
  /** A line of progress from inside a step (one migration applied, a command's status). */
  'step.progress': { seq: number; name: string };
  /** clone-freeze: the freeze is over and the clone is the database to use (URL password masked). */
  'clone.frozen': { totalMs: number; phases: Array<{ name: string; ms: number }>; databaseUrl: string };
  /** A step journaled a piece of run state; `state` is all of it. */
  'state.set': { key: string; state: Record<string, unknown> };
  'migration.migrating': MigrationProgress;
  'migration.migrated': MigrationProgress;
  'migration.reverting': MigrationProgress;
  'migration.reverted': MigrationProgress;
  'migration.retrying': MigrationProgress;
  /** A batch of the fleet roll started: its members are moving to `release`. */
  'fleet.batch.started': BatchEvent;
  /** A batch passed the gate: the load balancer's checks AND maint's probe. */
  'fleet.batch.healthy': BatchEvent;
  /** Traffic goes to the batch (read back from the load balancer). */
  'fleet.batch.shifted': BatchEvent;
  /** The old members of the batch are drained (sessions 0) and stopped. */
  'fleet.batch.drained': BatchEvent;
  /** The fleet serves `release` (read back). */
  'fleet.rolled': { release: string; previous: string | null; durationMs: number };
  /** The fleet is being returned to `previous`. */
  'fleet.rolling_back': { release: string; previous: string; reason: string };
  /** The previous release serves again, verified by read-back and probe. */
  'fleet.rolled_back': { release: string; previous: string; durationMs: number };
  /** A maintenance event of the contract was emitted; channels deliver it. */
  maintenance: { event: MaintenanceEvent };
  /** A delivery to a channel failed after its retries (the run goes on). */
  'notification.failed': { channel: string; eventType: EventType; error: string };
  /** The agent recorded an operation as scheduled into a window (once per plan and window). */
  'schedule.planned': { schedule: ScheduleRecord };
  /** The agent moved a scheduled operation to the next window: not enough time left. */
  'schedule.rescheduled': { schedule: ScheduleRecord; next: ScheduleRecord };
  /** A scheduled operation's work vanished (someone ran it by hand): cancelled, not run. */
  'schedule.cancelled': { schedule: ScheduleRecord; reason: string };
  /** Another agent or run is handling this plan now (it is named). */
  'schedule.elsewhere': { holder: LockHolder | null };
}

export type EventCode = keyof EventData;

export interface EventSpec {
  level: Level;
  /** What the event means, for docs/events.md and people writing subscribers. */
  description: string;
}

export const EVENTS = {
  'run.started': { level: 'info', description: 'The run was journaled and its steps begin.' },
  'run.updated': { level: 'debug', description: "The run's journal row changed." },
  'run.finished': { level: 'info', description: 'The run is over, with its status and error.' },
  'run.recovering': {
    level: 'warn',
    description: 'An interrupted run is being resumed or rolled back by this run.',
  },
  'run.clock_skew': {
    level: 'warn',
    description: "The database server's clock differs from this machine's by more than 5 s.",
  },
  'lock.held': { level: 'warn', description: 'Another process holds the single-runner lock.' },
  'step.running': { level: 'info', description: 'A step started (journaled before it runs).' },
  'step.done': { level: 'info', description: 'A step finished and verified.' },
  'step.failed': { level: 'error', description: 'A step failed; the run rolls back.' },
  'step.cancelled': {
    level: 'error',
    description: 'A step was cancelled (window end, its deadline, or a stop signal).',
  },
  'step.rolling_back': { level: 'warn', description: 'A step is being undone.' },
  'step.rolled_back': { level: 'warn', description: 'A step was undone.' },
  'step.rollback_failed': {
    level: 'error',
    description: 'Undoing a step failed: an operator must act.',
  },
  'step.progress': { level: 'info', description: 'A line of progress from inside a step.' },
  'state.set': { level: 'debug', description: 'A step journaled a piece of run state.' },
  'clone.frozen': {
    level: 'info',
    description:
      'clone-freeze: the freeze is over for the application: the clone is final (with a fleet: the new fleet took the traffic); data has the phases.',
  },
  'migration.migrating': { level: 'info', description: 'A migration starts.' },
  'migration.migrated': { level: 'info', description: 'A migration was applied.' },
  'migration.reverting': { level: 'info', description: 'A migration is being reverted.' },
  'migration.reverted': { level: 'info', description: 'A migration was reverted.' },
  'migration.retrying': {
    level: 'warn',
    description: 'A statement waited longer than the lock timeout and is retried with backoff.',
  },
  'fleet.batch.started': { level: 'info', description: 'A batch of the fleet roll started.' },
  'fleet.batch.healthy': {
    level: 'info',
    description: "A batch passed the gate: the load balancer's checks and maint's probe.",
  },
  'fleet.batch.shifted': { level: 'info', description: 'Traffic goes to the batch (read back).' },
  'fleet.batch.drained': {
    level: 'info',
    description: 'The old members of a batch are drained and stopped.',
  },
  'fleet.rolled': { level: 'info', description: 'The fleet serves the new release (read back).' },
  'fleet.rolling_back': {
    level: 'warn',
    description: 'The fleet is being returned to the previous release.',
  },
  'fleet.rolled_back': {
    level: 'warn',
    description: 'The previous release serves again, verified by read-back and probe.',
  },
  maintenance: {
    level: 'info',
    description: 'A maintenance event of the contract (planned, started, ...) was emitted.',
  },
  'notification.failed': {
    level: 'warn',
    description: 'A channel did not take an event after its retries; the maintenance goes on.',
  },
  'schedule.planned': {
    level: 'info',
    description: 'The agent recorded an operation as scheduled into a window and announced it.',
  },
  'schedule.rescheduled': {
    level: 'warn',
    description: 'The agent moved a scheduled operation to the next window: not enough time left.',
  },
  'schedule.cancelled': {
    level: 'warn',
    description: "A scheduled operation's work vanished before its window: cancelled, not run.",
  },
  'schedule.elsewhere': {
    level: 'info',
    description: 'Another agent or run is handling this plan now.',
  },
} as const satisfies Record<EventCode, EventSpec>;

export interface CoreEvent<C extends EventCode = EventCode> {
  code: C;
  level: Level;
  /** ISO-8601 UTC. */
  time: string;
  plan: string;
  runId: string | null;
  /** One line for people; renderers may show it as is. Never contains a secret. */
  message: string;
  data: EventData[C];
}

export type AnyCoreEvent = { [C in EventCode]: CoreEvent<C> }[EventCode];

/** Where events go. Sinks must not throw and must not block: they render or queue. */
export interface EventSink {
  emit(event: AnyCoreEvent): void;
}

export const nullSink: EventSink = { emit: () => undefined };

/** Several sinks as one; a failing sink never stops the others or the core. */
export function fanOut(...sinks: Array<EventSink | undefined>): EventSink {
  const live = sinks.filter((s): s is EventSink => s !== undefined);
  return {
    emit(event) {
      for (const sink of live) {
        try {
          sink.emit(event);
        } catch {
          // A renderer's bug must not fail the maintenance.
        }
      }
    },
  };
}

/** Subscribers the core waits for before it goes on: the journal is written ahead of each step. */
export interface DurableSubscriber {
  handle(event: AnyCoreEvent): Promise<void>;
}

export interface EmitOptions {
  message?: string;
  /** @default the code's level */
  level?: Level;
  /**
   * A durable subscriber's failure is rethrown unless the event is best-effort (a rollback's
   * journal line must not hide the rollback itself).
   */
  bestEffort?: boolean;
  /** About another run than the emitter's (the interrupted run a new run resumes). */
  runId?: string;
}

/**
 * Builds coded events for one plan (and, once it has one, one run) and hands them to the
 * durable subscribers, then to the sink.
 */
export class Emitter {
  runId: string | null = null;
  private readonly durable: DurableSubscriber[] = [];
  private sink: EventSink;

  constructor(
    readonly plan: string,
    sink: EventSink,
    private readonly now: () => Date,
    private readonly onDurableError: (error: Error, event: AnyCoreEvent) => void = () => undefined,
  ) {
    this.sink = sink;
  }

  /** Another sink from now on (a run's publisher joins once its channels exist). */
  attach(sink: EventSink): void {
    this.sink = fanOut(this.sink, sink);
  }

  /** Durable subscribers run in order, awaited, before the sink sees the event. */
  subscribe(subscriber: DurableSubscriber): () => void {
    this.durable.push(subscriber);
    return () => {
      const i = this.durable.indexOf(subscriber);
      if (i >= 0) this.durable.splice(i, 1);
    };
  }

  event<C extends EventCode>(code: C, data: EventData[C], options: EmitOptions = {}): CoreEvent<C> {
    return {
      code,
      level: options.level ?? EVENTS[code].level,
      time: this.now().toISOString(),
      plan: this.plan,
      runId: options.runId ?? this.runId,
      message: options.message ?? EVENTS[code].description,
      data,
    };
  }

  /** Emit to the sink only (nothing durable listens), synchronously. */
  tell<C extends EventCode>(code: C, data: EventData[C], options: EmitOptions = {}): void {
    this.sink.emit(this.event(code, data, options) as AnyCoreEvent);
  }

  async emit<C extends EventCode>(code: C, data: EventData[C], options: EmitOptions = {}): Promise<void> {
    const event = this.event(code, data, options) as AnyCoreEvent;
    for (const subscriber of this.durable) {
      try {
        await subscriber.handle(event);
      } catch (error) {
        if (!options.bestEffort) throw error;
        this.onDurableError(error as Error, event);
      }
    }
    this.sink.emit(event);
  }
}
