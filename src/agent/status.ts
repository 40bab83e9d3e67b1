/**
 * The agent's status model: what `/status` answers, `/metrics` exports and the status page shows.
 * It is fed by the tick results (per plan) and by the core's coded events (the running step, as
 * it happens), and never by reading anything itself.
 */
import type { LockHolder } from '../db/database.js';
import type { AnyCoreEvent, EventSink } from '../core/events.js';
import type { ScheduleRecord } from '../core/journal/journal.js';
import type { ErrorJson } from '../core/result.js';
import type { TickAction, TickResult } from '../core/schedule/tick.js';

/** What an app shows its users: the state the browser module hands to `onChange`. */
export type NoticeState = 'planned' | 'active' | 'off';

export interface PlanStatus {
  plan: string;
  /** The plan file, relative to the plans folder. */
  file: string;
  /** Why the plan could not be loaded or ticked (with `file:line:col` for a bad plan), or null. */
  error: ErrorJson | null;
  window: TickResult['window'] | null;
  work: TickResult['work'] | null;
  estimateMs: number | null;
  /** The operation scheduled into the current or next window. */
  scheduled: ScheduleRecord | null;
  /** The run this agent is executing now. */
  running: { runId: string | null; step: string | null; since: string } | null;
  /** Another agent or run handles it now. */
  elsewhere: { holder: LockHolder | null; message: string } | null;
  lastAction: TickAction | null;
  message: string;
  lastRuns: Array<{
    runId: string;
    status: string;
    startedAt: string;
    finishedAt: string | null;
    host: string;
    pid: number;
  }>;
  /** What users should see: `planned` ahead of the window, `active` while it runs, else `off`. */
  notice: { state: NoticeState; startsAt: string | null; endsAt: string | null };
  checkedAt: string | null;
}

export interface AgentStatusDocument {
  agent: {
    host: string;
    pid: number;
    startedAt: string;
    lastTickAt: string | null;
    ticks: number;
    stopping: boolean;
  };
  plans: PlanStatus[];
}

export interface MetricsSink {
  runFinished(plan: string, outcome: string): void;
  stepFinished(plan: string, step: string, durationMs: number): void;
  deliveryFailed(plan: string, channel: string): void;
}

export class AgentStatus {
  private readonly plans = new Map<string, PlanStatus>();
  readonly startedAt: string;
  lastTickAt: string | null = null;
  lastTickMono: number | null = null;
  ticks = 0;
  stopping = false;
  /** Where run outcomes, step durations and delivery failures are counted (set when serving). */
  metrics: MetricsSink | null = null;

  constructor(
    private readonly host: { host: string; pid: number },
    private readonly now: () => Date,
  ) {
    this.startedAt = now().toISOString();
  }

  /** The core's coded events, as they happen: the running step and the metrics. */
  sink(): EventSink {
    return { emit: (event) => this.onEvent(event) };
  }

  private onEvent(e: AnyCoreEvent): void {
    const status = this.find(e.plan);
    switch (e.code) {
      case 'run.started':
        if (status) status.running = { runId: e.runId, step: null, since: e.time };
        if (status) status.notice = { ...status.notice, state: 'active' };
        break;
      case 'schedule.planned':
        // Shown at once, before the tick ends (a run may follow in the same tick).
        if (status) {
          status.scheduled = e.data.schedule;
          status.notice = {
            state: 'planned',
            startsAt: e.data.schedule.windowStart,
            endsAt: e.data.schedule.windowEnd,
          };
        }
        break;
      case 'step.running':
        if (status?.running) status.running.step = e.data.step.name;
        break;
      case 'step.done':
      case 'step.failed':
      case 'step.cancelled':
        if (e.data.step.durationMs !== null)
          this.metrics?.stepFinished(e.plan, e.data.step.name, e.data.step.durationMs);
        break;
      case 'run.finished':
        if (status) status.running = null;
        this.metrics?.runFinished(e.plan, e.data.status);
        break;
      case 'notification.failed':
        this.metrics?.deliveryFailed(e.plan, e.data.channel);
        break;
      default:
        break;
    }
  }

  private find(plan: string): PlanStatus | undefined {
    for (const s of this.plans.values()) if (s.plan === plan) return s;
    return undefined;
  }

  /** A plan file that could not be loaded: shown with its positioned error; the others go on. */
  failed(file: string, error: ErrorJson): void {
    const previous = this.plans.get(file);
    this.plans.set(file, {
      ...blank(file, previous?.plan ?? file),
      error,
      message: error.message,
      checkedAt: this.now().toISOString(),
    });
  }

  /** Before a plan's tick: it is known by name (so its events find it). */
  ticking(file: string, plan: string, window: PlanStatus['window']): void {
    const previous = this.plans.get(file);
    const status = previous && previous.plan === plan ? previous : blank(file, plan);
    this.plans.set(file, { ...status, window });
  }

  ticked(file: string, result: TickResult): void {
    const status = this.plans.get(file) ?? blank(file, result.plan);
    const holder = result.action === 'elsewhere' ? result.holder : null;
    const scheduled = result.scheduled;
    const active = status.running !== null || (holder !== null && holder.purpose === 'run');
    const planned = scheduled?.status === 'scheduled' && scheduled.eventId !== null;
    this.plans.set(file, {
      ...status,
      plan: result.plan,
      error: result.error,
      window: result.window,
      work: result.work,
      estimateMs: result.estimateMs,
      scheduled,
      elsewhere: result.action === 'elsewhere' ? { holder, message: result.message } : null,
      lastAction: result.action,
      message: result.message,
      lastRuns: result.recentRuns.map((r) => ({
        runId: r.runId,
        status: r.status,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        host: r.host,
        pid: r.pid,
      })),
      notice: {
        state: active ? 'active' : planned ? 'planned' : 'off',
        startsAt: scheduled?.windowStart ?? null,
        endsAt: scheduled?.windowEnd ?? null,
      },
      checkedAt: this.now().toISOString(),
    });
  }

  /** Plans whose file is gone from the folder are forgotten. */
  retain(files: readonly string[]): void {
    for (const file of [...this.plans.keys()]) if (!files.includes(file)) this.plans.delete(file);
  }

  /** Whether this agent is executing a run of any plan now. */
  runningPlans(): string[] {
    return [...this.plans.values()].filter((p) => p.running).map((p) => p.plan);
  }

  list(): PlanStatus[] {
    return [...this.plans.values()].sort((a, b) => a.file.localeCompare(b.file));
  }

  document(): AgentStatusDocument {
    return {
      agent: {
        host: this.host.host,
        pid: this.host.pid,
        startedAt: this.startedAt,
        lastTickAt: this.lastTickAt,
        ticks: this.ticks,
        stopping: this.stopping,
      },
      plans: this.list(),
    };
  }
}

function blank(file: string, plan: string): PlanStatus {
  return {
    plan,
    file,
    error: null,
    window: null,
    work: null,
    estimateMs: null,
    scheduled: null,
    running: null,
    elsewhere: null,
    lastAction: null,
    message: '',
    lastRuns: [],
    notice: { state: 'off', startsAt: null, endsAt: null },
    checkedAt: null,
  };
}
