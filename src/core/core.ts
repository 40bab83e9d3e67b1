/**
 * The one object both hosts call. `createCore(ports, sink)` returns the use cases; the oclif
 * commands and the agent are equal thin hosts over it: they build the ports, subscribe a sink
 * to the coded events, call one use case and render its typed result. Each use case's module
 * loads on first call, so a command pays only for what it runs.
 */
import type { BannerResult, BannerState } from '../notify/banner.js';
import type { NotifyOptions, NotifyResult } from '../notify/send.js';
import type { LoadedPlan } from '../plan/loader.js';
import type { WindowReport } from '../window/report.js';
import { nullSink, type EventSink } from './events.js';
import type { GateResult } from './inspect/gate.js';
import type { LintOptions, LintResult } from './inspect/lint.js';
import type { LockReport, ReleaseReport } from './inspect/lock.js';
import type { PlanPreview } from './inspect/preview.js';
import type { StatusReport } from './inspect/status.js';
import type {
  CreatedMigration,
  MigrateDownOptions,
  MigrateOptions,
  MigrateResult,
  MigrationStatus,
} from './migrate/migrate.js';
import type { AcceptOptions, AcceptResult } from './migrate/accept.js';
import type { Ports } from './ports.js';
import type { ResolveOptions, ResolveResult } from './run/resolve.js';
import type { RunOptions, RunResult } from './run/run.js';
import type { TickOptions, TickResult } from './schedule/tick.js';

export interface Core {
  /** `maint run`: the whole maintenance, inside the window, journaled. */
  run(loaded: LoadedPlan, options?: RunOptions): Promise<RunResult>;
  /** `maint resolve`: record that a failed run was finished by hand, journaled. */
  resolve(loaded: LoadedPlan, options: ResolveOptions): Promise<ResolveResult>;
  /** `maint plan`: what `run` would do now; changes nothing. */
  preview(loaded: LoadedPlan): Promise<PlanPreview>;
  /** `maint gate`: may a deploy proceed now? */
  gate(loaded: LoadedPlan): Promise<GateResult>;
  /** `maint lint`: findings and expand/contract classification of the migrations. */
  lint(loaded: LoadedPlan, options?: LintOptions): Promise<LintResult>;
  /** `maint status`: the journal and the lock holder. */
  status(loaded: LoadedPlan, options?: { limit?: number }): Promise<StatusReport>;
  /** `maint window`: open or closed, time left, the next windows. */
  window(loaded: LoadedPlan, count: number): Promise<WindowReport>;
  migrate(loaded: LoadedPlan, options?: MigrateOptions): Promise<MigrateResult>;
  migrateDown(loaded: LoadedPlan, options: MigrateDownOptions): Promise<MigrateResult>;
  migrationStatus(loaded: LoadedPlan): Promise<MigrationStatus>;
  createMigration(loaded: LoadedPlan, name: string): Promise<CreatedMigration>;
  /** `maint migrate accept`: record reviewed edits of applied migrations, journaled. */
  acceptMigrations(loaded: LoadedPlan, options: AcceptOptions): Promise<AcceptResult>;
  /** `maint notify`: one event to the plan's channels. */
  notify(loaded: LoadedPlan, options: NotifyOptions): Promise<NotifyResult>;
  /** `maint banner`: write the banner files for a state. */
  banner(loaded: LoadedPlan, state: BannerState): Promise<BannerResult>;
  lock(loaded: LoadedPlan): Promise<LockReport>;
  releaseLock(loaded: LoadedPlan, lockId: string): Promise<ReleaseReport>;
  /** The agent's tick for one plan: announce ahead, run in the window, reschedule, cancel. */
  tick(loaded: LoadedPlan, options?: TickOptions): Promise<TickResult>;
}

export function createCore(ports: Ports, sink: EventSink = nullSink): Core {
  return {
    run: async (loaded, options) => (await import('./run/run.js')).runPlan(ports, sink, loaded, options),
    resolve: async (loaded, options) => (await import('./run/resolve.js')).resolveRun(ports, loaded, options),
    preview: async (loaded) => (await import('./inspect/preview.js')).previewPlan(ports, loaded),
    gate: async (loaded) => (await import('./inspect/gate.js')).gate(ports, loaded),
    lint: async (loaded, options) => (await import('./inspect/lint.js')).lintPlan(ports, loaded, options),
    status: async (loaded, options) =>
      (await import('./inspect/status.js')).planStatus(ports, loaded, options),
    window: async (loaded, count) =>
      (await import('../window/report.js')).windowReport(loaded, ports.clock, count),
    migrate: async (loaded, options) =>
      (await import('./migrate/migrate.js')).migrate(ports, sink, loaded, options),
    migrateDown: async (loaded, options) =>
      (await import('./migrate/migrate.js')).migrateDown(ports, sink, loaded, options),
    migrationStatus: async (loaded) => (await import('./migrate/migrate.js')).migrationStatus(ports, loaded),
    createMigration: async (loaded, name) =>
      (await import('./migrate/migrate.js')).createMigration(loaded, name),
    acceptMigrations: async (loaded, options) =>
      (await import('./migrate/accept.js')).acceptMigrations(ports, loaded, options),
    notify: async (loaded, options) =>
      (await import('../notify/send.js')).notifyPlan(loaded, ports.clock, options, await ports.notify()),
    banner: async (loaded, state) =>
      (await import('../notify/banner.js')).setBanner(loaded, state, ports.clock),
    lock: async (loaded) => (await import('./inspect/lock.js')).lockReport(ports, loaded),
    releaseLock: async (loaded, lockId) =>
      (await import('./inspect/lock.js')).releaseLockById(ports, loaded, lockId),
    tick: async (loaded, options) =>
      (await import('./schedule/tick.js')).tickPlan(ports, sink, loaded, options),
  };
}
