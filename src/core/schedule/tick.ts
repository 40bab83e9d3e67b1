/**
 * One agent tick for one plan, as a use case: announce the operation ahead of its window, run it
 * at the window's start through the run use case (exactly as `maint run`), move it to the next
 * window when the estimate no longer fits, cancel it when its work vanished. Everything happens
 * under the plan's agent lock (`<plan>:agent`), and every decision is journaled in the plan's
 * database (`maint_schedule`), so ticks, restarts and several agents announce and run each
 * operation once. The announcement's event id derives from the schedule record: a re-delivery
 * after a crash carries the same id, which receivers use as their idempotency key.
 */
import { createHash } from 'node:crypto';
import type { LockHolder } from '../../db/database.js';
import { describeHolder } from '../../db/identity.js';
import { toMaintError } from '../../errors.js';
import type { DeliveryOutcome } from '../../notify/channel.js';
import type { LoadedPlan } from '../../plan/loader.js';
import type { WindowInstance } from '../../window/window.js';
import { nextWindowAfter } from '../engine/guard.js';
import { Emitter, type EventSink } from '../events.js';
import { previewPlan, type PlanPreview } from '../inspect/preview.js';
import type { Journal, RunRecord, ScheduleRecord, ScheduleStatus } from '../journal/journal.js';
import type { EventType } from '../maintenance-event.js';
import type { Ports } from '../ports.js';
import { errorJson, type ErrorJson } from '../result.js';
import { runPlan, type RunResult } from '../run/run.js';

export interface TickOptions {
  /** Aborting cancels a run in progress, which then rolls back as `maint run` does on SIGTERM. */
  signal?: AbortSignal;
  /** How many past runs the result lists. @default 5 */
  recent?: number;
}

/** What the tick did for the plan. */
export type TickAction =
  /** Nothing to do now (no work, or not within the notice period yet, or already announced). */
  | 'idle'
  /** Recorded as scheduled and `maintenance_planned` sent. */
  | 'announced'
  /** The run use case ran (see `run`). */
  | 'ran'
  /** Not enough time left: moved to the next window, `maintenance_rescheduled` sent. */
  | 'rescheduled'
  /** The scheduled work vanished: cancelled. */
  | 'cancelled'
  /** Another agent or run handles it now (`holder`). */
  | 'elsewhere';

export interface TickResult {
  plan: string;
  action: TickAction;
  /** One sentence saying what happened. */
  message: string;
  window: PlanPreview['window'];
  /** What is pending now. */
  work: { migrations: string[]; operations: string[]; interruptedRun: string | null };
  estimateMs: number;
  /** The schedule record of the window concerned, after the tick. */
  scheduled: ScheduleRecord | null;
  holder: LockHolder | null;
  run: RunResult | null;
  notifications: DeliveryOutcome[];
  recentRuns: RunRecord[];
  error: ErrorJson | null;
}

/** The lock the agents of one plan take to decide (and run) one at a time. */
export function agentLockName(plan: string): string {
  return `${plan}:agent`;
}

export function scheduleId(plan: string, window: { start: Date }): string {
  return `${plan}@${window.start.toISOString()}`;
}

/** The announcement's id: the same for every agent and every retry of this record and type. */
export function scheduledEventId(recordId: string, type: EventType): string {
  return `evt_${createHash('sha256').update(`${recordId}:${type}`).digest('hex').slice(0, 24)}`;
}

const STATUS_OF_RUN: Partial<Record<RunResult['status'], ScheduleStatus>> = {
  completed: 'completed',
  rolled_back: 'rolled_back',
  rescheduled: 'rescheduled',
  failed: 'failed',
  nothing_pending: 'completed',
};

export async function tickPlan(
  ports: Ports,
  sink: EventSink,
  loaded: LoadedPlan,
  options: TickOptions = {},
): Promise<TickResult> {
  const { plan } = loaded;
  const events = new Emitter(plan.name, sink, () => ports.clock.now());
  const preview = await previewPlan(ports, loaded);
  const work = {
    migrations: preview.pending.map((m) => m.name),
    operations: preview.operations.filter((o) => o.pending).map((o) => o.name),
    interruptedRun: preview.interruptedRun?.runId ?? null,
  };
  const result: TickResult = {
    plan: plan.name,
    action: 'idle',
    message: '',
    window: preview.window,
    work,
    estimateMs: preview.totalEstimateMs,
    scheduled: null,
    holder: null,
    run: null,
    notifications: [],
    recentRuns: [],
    error: null,
  };
  const hasWork = work.migrations.length > 0 || work.operations.length > 0 || work.interruptedRun !== null;
  const db = await ports.openDatabase(plan.database, loaded.dir, ports.logger);
  try {
    const journal = ports.journal(db);
    const lock = await db.acquireLock(agentLockName(plan.name), { wait: false, purpose: 'agent' });
    if (!lock) {
      // Name who acts: the run's holder if a run is going on, else the agent deciding now.
      result.holder =
        (await db.lockStatus(plan.name).catch(() => null)) ??
        (await db.lockStatus(agentLockName(plan.name)).catch(() => null));
      return elsewhere(result, events);
    }
    try {
      const act = new Acts(ports, sink, loaded, journal, events, result);
      const now = ports.clock.now();
      const current = preview.window.current ? instance(preview.window.current) : null;
      const next = preview.window.next[0] ? instance(preview.window.next[0]) : null;
      if (current) {
        const record = await journal.scheduled(plan.name, current.start.toISOString());
        result.scheduled = record;
        if (!hasWork) {
          if (record?.status === 'scheduled') await act.cancel(record, 'nothing is pending any more');
          else if (record?.status === 'running') await act.settle(record);
          else result.message = 'nothing is pending';
        } else if (preview.lock) {
          result.holder = preview.lock;
          elsewhere(result, events);
        } else if (record && !['scheduled', 'running'].includes(record.status) && !work.interruptedRun) {
          result.message = `already ${record.status} in this window; the work left waits for the next one`;
        } else if (preview.status === 'refused' && !work.interruptedRun) {
          await act.reschedule(record ?? (await act.announce(current)), current);
        } else {
          await act.run(record ?? (await act.announce(current)), options);
        }
      } else if (next && next.start.getTime() - now.getTime() <= plan.window.notice) {
        const record = await journal.scheduled(plan.name, next.start.toISOString());
        result.scheduled = record;
        if (!hasWork) {
          if (record?.status === 'scheduled') await act.cancel(record, 'nothing is pending any more');
          else result.message = 'nothing is pending';
        } else if (!record || (record.status === 'scheduled' && record.eventId === null)) {
          await act.announce(next, record);
        } else {
          result.message = `already ${record.status} for ${record.windowStart}`;
        }
      } else {
        result.message = hasWork
          ? `work is pending; the next window is not within the notice period yet`
          : 'nothing is pending';
      }
    } finally {
      await lock.release().catch(() => undefined);
    }
    result.recentRuns = await journal.runs(plan.name, options.recent ?? 5).catch(() => []);
  } catch (error) {
    result.error = errorJson(toMaintError(error).bindPlan(loaded.path));
    result.message = result.error.message;
  } finally {
    await db.close().catch(() => undefined);
  }
  return result;
}

function instance(w: { start: string; end: string }): WindowInstance {
  return { start: new Date(w.start), end: new Date(w.end) };
}

function elsewhere(result: TickResult, events: Emitter): TickResult {
  result.action = 'elsewhere';
  const h = result.holder;
  result.message = h ? `running elsewhere: ${describeHolder(h)}` : 'another agent is handling it';
  events.tell('schedule.elsewhere', { holder: h }, { message: `${result.plan}: ${result.message}` });
  return result;
}

/** The tick's actions, sharing the plan, the journal and the result. */
class Acts {
  constructor(
    private readonly ports: Ports,
    private readonly sink: EventSink,
    private readonly loaded: LoadedPlan,
    private readonly journal: Journal,
    private readonly events: Emitter,
    private readonly result: TickResult,
  ) {}

  private agent(): string {
    return `${this.ports.host.host}:${this.ports.host.pid}`;
  }

  private record(window: WindowInstance, patch: Partial<ScheduleRecord> = {}): ScheduleRecord {
    const now = this.ports.clock.now().toISOString();
    return {
      id: scheduleId(this.loaded.plan.name, window),
      plan: this.loaded.plan.name,
      windowStart: window.start.toISOString(),
      windowEnd: window.end.toISOString(),
      status: 'scheduled',
      eventId: null,
      runId: null,
      agent: this.agent(),
      createdAt: now,
      updatedAt: now,
      note: null,
      ...patch,
    };
  }

  private async put(record: ScheduleRecord, patch: Partial<ScheduleRecord>): Promise<ScheduleRecord> {
    const next = {
      ...record,
      ...patch,
      agent: this.agent(),
      updatedAt: this.ports.clock.now().toISOString(),
    };
    await this.journal.putSchedule(next);
    this.result.scheduled = next;
    return next;
  }

  /** Record as scheduled first, then deliver: a crash in between re-delivers the same id. */
  async announce(window: WindowInstance, existing?: ScheduleRecord | null): Promise<ScheduleRecord> {
    let record = existing ?? this.record(window);
    if (!existing) await this.journal.putSchedule(record);
    const eventId = scheduledEventId(record.id, 'maintenance_planned');
    await this.deliver('maintenance_planned', record.id, window, {});
    await this.banner('planned', window);
    record = await this.put(record, { eventId });
    this.result.action = 'announced';
    this.result.message = `scheduled into the window of ${record.windowStart}; maintenance_planned sent`;
    this.events.tell(
      'schedule.planned',
      { schedule: record },
      { message: `${record.plan}: ${this.result.message}` },
    );
    return record;
  }

  /** An agent died after its run ended but before it closed the row: the journal says how it ended. */
  async settle(record: ScheduleRecord): Promise<void> {
    const last = (await this.journal.runs(this.loaded.plan.name, 1))[0];
    const status = (last && STATUS_OF_RUN[last.status as RunResult['status']]) ?? 'completed';
    await this.put(record, { status, runId: last?.runId ?? record.runId, note: 'closed from the journal' });
    this.result.message = `the run of ${record.windowStart} had ended ${status}; its schedule row is closed`;
  }

  async cancel(record: ScheduleRecord, reason: string): Promise<void> {
    const done = await this.put(record, { status: 'cancelled', note: reason });
    await this.banner('off', instance({ start: record.windowStart, end: record.windowEnd }));
    this.result.action = 'cancelled';
    this.result.message = `the operation scheduled for ${record.windowStart} was cancelled: ${reason}`;
    this.events.tell(
      'schedule.cancelled',
      { schedule: done, reason },
      { message: `${record.plan}: ${this.result.message}` },
    );
  }

  async reschedule(record: ScheduleRecord, window: WindowInstance): Promise<void> {
    const nextWindow = nextWindowAfter(this.loaded.plan.window, window.end);
    if (!nextWindow) throw new Error('the plan has no next window');
    const eventId = scheduledEventId(record.id, 'maintenance_rescheduled');
    const target =
      (await this.journal.scheduled(this.loaded.plan.name, nextWindow.start.toISOString())) ??
      this.record(nextWindow);
    const moved = await this.put(record, {
      status: 'rescheduled',
      note: `not enough time left for the estimate; moved to ${nextWindow.start.toISOString()}`,
    });
    await this.deliver('maintenance_rescheduled', record.id, window, { nextWindow });
    // The reschedule is the next window's announcement: no second maintenance_planned.
    const next = await this.put(target, { status: 'scheduled', eventId });
    await this.banner('planned', nextWindow);
    this.result.action = 'rescheduled';
    this.result.scheduled = next;
    this.result.message = `not enough time left in the window for the estimate; moved to ${next.windowStart}`;
    this.events.tell(
      'schedule.rescheduled',
      { schedule: moved, next },
      { message: `${record.plan}: ${this.result.message}` },
    );
  }

  async run(record: ScheduleRecord, options: TickOptions): Promise<void> {
    const running = await this.put(record, { status: 'running' });
    const run = await runPlan(this.ports, this.sink, this.loaded, {
      ...(options.signal ? { signal: options.signal } : {}),
    });
    this.result.run = run;
    this.result.action = 'ran';
    if (run.error?.code === 'LOCK_HELD') {
      await this.put(running, { status: 'scheduled' });
      this.result.holder = (run.error as { holder?: LockHolder | null }).holder ?? null;
      elsewhere(this.result, this.events);
      return;
    }
    const status = STATUS_OF_RUN[run.status];
    if (run.status === 'refused' && run.error?.code === 'WINDOW_TOO_SHORT') {
      // What is pending changed under the lock and no longer fits: the next window takes it.
      await this.reschedule(
        await this.put(running, { status: 'scheduled' }),
        instance({ start: record.windowStart, end: record.windowEnd }),
      );
      return;
    }
    await this.put(running, {
      status: status ?? 'scheduled',
      runId: run.runId,
      note: run.error ? `${run.status}: ${run.error.message}` : run.status,
    });
    this.result.message = `ran: ${run.status}${run.error ? ` (${run.error.code})` : ''}`;
  }

  private async deliver(
    type: EventType,
    recordId: string,
    window: WindowInstance,
    extra: { nextWindow?: WindowInstance },
  ): Promise<void> {
    const { plan } = this.loaded;
    const notify = await this.ports.notify();
    const event = {
      ...notify.makeEvent({ plan, runId: `sched_${recordId}`, type, window, ...extra }, this.ports.clock),
      id: scheduledEventId(recordId, type),
    };
    this.events.tell('maintenance', { event }, { message: `${event.type}: ${event.summary}` });
    if (plan.notify.channels.length === 0) return;
    const channels = await notify.createChannels(plan, this.loaded.dir);
    const outcomes = await notify.deliver(channels, event, { logger: this.ports.logger });
    this.result.notifications.push(...outcomes);
    for (const o of outcomes.filter((x) => !x.ok && !x.skipped)) {
      this.events.tell(
        'notification.failed',
        { channel: o.channel, eventType: o.event, error: o.error ?? 'not delivered' },
        { message: `${o.channel} did not take ${o.event}: ${o.error ?? 'not delivered'}` },
      );
    }
  }

  private async banner(state: 'planned' | 'off', window: WindowInstance): Promise<void> {
    const { writeBanners, bannerConfigs } = await import('../../notify/banner.js');
    if (bannerConfigs(this.loaded.plan).length === 0) return;
    await writeBanners(this.loaded.plan, this.loaded.dir, state, window);
  }
}
